#!/usr/bin/env bash
# Starts the test control plane (etcd, kube-apiserver, controller manager, scheduler, kwok with two
# simulated one-GPU nodes and a CPU node) on 127.0.0.1 for a person to poke at, and prints the
# KUBECONFIG to use. Ctrl-C stops it. Builds the binaries first if they are not cached (Go >= 1.25).
#   scripts/cluster/start.sh [WORK_FOLDER]
set -euo pipefail
cd "$(dirname "$0")/../.."
exec .venv/bin/python tests/controlplane.py "${1:-${TMPDIR:-/tmp}/workload-cluster}"

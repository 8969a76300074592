"""A real OCI registry on loopback (the CNCF Distribution registry, built from its Go module by
scripts/cluster/build.sh), and a throwaway OpenPGP key for signing charts: what a platform team's chart
registry and release key are, for the packaging tests."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from controlplane import _free_port

KEY_NAME = "Workload Test Signing <signing@example.invalid>"


@contextmanager
def oci_registry(binary: Path, folder: Path) -> Iterator[str]:
    """Serve a registry storing into `folder`; yields its host:port (plain HTTP, loopback only)."""
    port = _free_port()
    config = folder / "config.yml"
    config.write_text(
        "version: 0.1\n"
        f"storage: {{filesystem: {{rootdirectory: {folder / 'data'}}}, delete: {{enabled: true}}}}\n"
        f"http: {{addr: '127.0.0.1:{port}'}}\n"
        "log: {level: warn}\n",
        encoding="utf-8",
    )
    with (folder / "registry.log").open("w") as log:
        process = subprocess.Popen([str(binary), "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError((folder / "registry.log").read_text(encoding="utf-8")) from None
                time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclass(frozen=True)
class Keyrings:
    secret: Path  # what `helm package --sign --keyring` reads
    public: Path  # what `helm verify --keyring` reads


@contextmanager
def signing_key(folder: Path, name: str = KEY_NAME) -> Iterator[Keyrings]:
    """A new RSA key without a passphrase, exported as the binary keyrings helm reads (helm's OpenPGP
    library reads neither GnuPG 2's keybox nor ed25519 keys). GnuPG's agent is stopped on the way out."""
    # GnuPG's agent listens on a socket in the home folder, and a socket path has at most 107 bytes: a
    # pytest-xdist tmp_path is too deep for it, so the home is a short folder of its own.
    home = Path(tempfile.mkdtemp(prefix="gpg-", dir="/tmp"))
    gpg = ["gpg", "--homedir", str(home), "--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase", ""]
    try:
        subprocess.run([*gpg, "--quick-gen-key", name, "rsa3072", "sign", "never"], check=True, capture_output=True)
        folder.mkdir(parents=True, exist_ok=True)
        keyrings = Keyrings(folder / "secring.gpg", folder / "pubring.gpg")
        exported = subprocess.run([*gpg, "--export-secret-keys", name], check=True, capture_output=True).stdout
        keyrings.secret.write_bytes(exported)
        keyrings.public.write_bytes(subprocess.run([*gpg, "--export", name], check=True, capture_output=True).stdout)
        yield keyrings
    finally:
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)

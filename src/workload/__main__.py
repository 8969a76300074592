"""`python -m workload`: the same as the `workload` command."""

from workload.cli import main

main()

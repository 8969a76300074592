"""`python -m workload`: the same as the `workload` command."""

from workload.entry import main

main()

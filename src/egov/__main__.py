"""`python -m egov ...`: the same command line as `egov ...`."""

from egov.cli import main

main(prog_name="egov")

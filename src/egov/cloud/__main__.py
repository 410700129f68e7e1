"""`python -m egov.cloud plan|handoff`: the same commands as `egov cloud ...`."""

from egov.cloud.cli import cloud

cloud(prog_name="egov cloud")

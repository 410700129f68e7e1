"""DNS lab tests: bring up the DC and one site LAN client, converge playbooks/dns.yml once per session.

    pytest tests/dns -m lab                      # brings the hosts up (additive) and converges
    EGOV_LAB_CONVERGED=1 pytest tests/dns -m lab # skip the converge (molecule verify: already done)
"""

from __future__ import annotations

import time

import pytest

from egov import settings
from tests.dns import labdns


@pytest.fixture(scope="session")
def dns_lab() -> dict[str, float]:
    reason = labdns.lab_ready_reason()
    if reason:
        pytest.skip(reason)
    started = time.monotonic()
    # additive: hosts already up (other engineers' work) are left alone
    labdns.run(["egov", "lab", "up", *[a for sel in labdns.LAB_SELECTORS for a in ("--only", sel)]])
    figures = {"lab_up_s": time.monotonic() - started}
    # EGOV_LAB_CONVERGED=1: `make lab-test` converged playbooks/site.yml (twice) on these hosts already
    if not settings.lab_converged():
        started = time.monotonic()
        labdns.playbook("--limit", "dns")
        figures["converge_s"] = time.monotonic() - started
    return figures

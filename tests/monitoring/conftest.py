"""Fixtures of the monitoring lab tests (issue 16): Prometheus and Alertmanager on monitoring-01,
queried over SSH on their loopback listeners, and the ops mailbox read over IMAPS by the mail tests'
real client from a commune's office LAN (tests/mail: `lab`, netns_client.py `imap_wait`).

EGOV_LAB_CONVERGED=1 (make lab-test) reuses the shared converge; otherwise playbooks/monitoring.yml
is converged once on the monitoring host and the hosts of EGOV_MONITORING_HOSTS (default: the mail,
SSO and monitoring groups), after the mail fixture's own converge.
"""

from __future__ import annotations

import json
import os
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from egov import settings
from tests.conftest import REPO
from tests.mail.conftest import DOMAIN, Lab, converge, lab  # lab: the mail tests' fixture, shared

MONITOR = "monitoring-01"
GROUP_VARS = yaml.safe_load((REPO / "playbooks" / "group_vars" / "all" / "monitoring.yml").read_text(encoding="utf-8"))
OPS_UID = str(GROUP_VARS["egov_ops_mailbox"]).split("@", 1)[0]
HOSTS = os.environ.get("EGOV_MONITORING_HOSTS", "monitoring,mail,sso")


def wait_for(what: str, probe: Callable[[], Any], *, timeout: float, interval: float = 2.0) -> tuple[Any, float]:
    """Poll probe() until it returns something truthy; (value, seconds waited); fails after timeout."""
    started = time.monotonic()
    last: Any = None
    while time.monotonic() - started < timeout:
        last = probe()
        if last:
            return last, time.monotonic() - started
        time.sleep(interval)
    pytest.fail(f"{what}: not within {timeout:.0f} s (last: {last!r})")


@dataclass
class Monitoring:
    lab: Lab

    def api(self, port: int, path: str, **params: str) -> Any:
        query = urllib.parse.urlencode(params)
        out = self.lab.ssh(MONITOR, f"curl -sf --max-time 10 'http://127.0.0.1:{port}{path}?{query}'", timeout=30)
        return json.loads(out)

    def query(self, promql: str) -> list[dict[str, Any]]:
        """Instant query: the result vector (metric labels + value)."""
        data = self.api(9090, "/api/v1/query", query=promql)
        assert data["status"] == "success", data
        return list(data["data"]["result"])

    def values(self, promql: str, key: str = "host") -> dict[str, float]:
        return {r["metric"].get(key, ""): float(r["value"][1]) for r in self.query(promql)}

    def alerts(self) -> list[dict[str, Any]]:
        """Alertmanager's active alerts."""
        return list(self.api(9093, "/api/v2/alerts", active="true", silenced="false", inhibited="false"))


@pytest.fixture(scope="session")
def monitoring(lab: Lab) -> Monitoring:
    systems = [s for s in os.environ.get("EGOV_LAB_SYSTEMS", "").split(",") if s]
    if settings.lab_converged() and systems and "monitoring" not in systems:
        pytest.skip(f"the shared converge did not cover the monitoring group (EGOV_LAB_SYSTEMS={','.join(systems)})")
    if not settings.lab_converged():
        converge("monitoring.yml", HOSTS)
    probe = lab.ssh(MONITOR, "systemctl is-active prometheus prometheus-alertmanager prometheus-blackbox-exporter",
                    check=False)
    if probe.split() != ["active"] * 3:
        pytest.fail(f"Prometheus/Alertmanager/blackbox not active on {MONITOR}: {probe!r}")
    return Monitoring(lab)


@pytest.fixture(scope="session")
def ops_mailbox(lab: Lab) -> tuple[str, str]:
    """(uid, password) of the ops mailbox (an official of the directory, lab password)."""
    return OPS_UID, lab.password(OPS_UID)


__all__ = ["DOMAIN", "MONITOR", "Monitoring", "lab", "wait_for"]

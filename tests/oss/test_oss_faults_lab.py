"""The one-stop-shop under faults (issue 14): a rolling deploy during a stream of lookups, an
application node killed during one, then the primary database killed during a stream of intakes.
Counted: failed requests (none in a deploy, no more than were in flight at a kill), committed
dossiers (every number the application confirmed is on the new primary), the promotion time, and
the old primary's rejoin as the synchronous standby. Needs the lab (root); about four minutes.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.mail.conftest import playbook
from tests.oss.conftest import APP, COMMUNE, DB, LAND_PROCEDURE, Oss, counter
from tests.oss.test_oss_lab import _first_official
from tests.sso.conftest import official_password

pytestmark = [pytest.mark.lab]

WORKERS = 4


def _finish(proc: object, timeout: float) -> dict[str, Any]:
    out, err = proc.communicate(timeout=timeout)  # type: ignore[attr-defined]
    assert proc.returncode == 0, err[-2000:]  # type: ignore[attr-defined]
    return dict(json.loads(out.strip().splitlines()[-1]))


def _leader(oss: Oss) -> str:
    for host in DB:
        cluster = oss.patroni(host)
        for member in cluster.get("members", []):
            if member["role"] == "leader":
                return str(member["name"])
    pytest.fail("no leader in the one-stop-shop database cluster")


def _deploy(*extra: str) -> str:
    """playbooks/oss.yml on the application pair, only its service concern (a changed gunicorn setting
    is a rolling reload, one node at a time)."""
    proc = playbook("oss.yml", ",".join(APP), "--tags", "oss_app_service", *extra, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:]
    return proc.stdout


def test_a_rolling_deploy_loses_no_request(oss: Oss) -> None:
    taken = oss.official(counter(COMMUNE), "intake", _first_official(COMMUNE), "--procedure", LAND_PROCEDURE)
    argv = oss.flow_argv(counter(COMMUNE), "stream-lookup", "--number", str(taken["number"]), "--seconds", "45",
                         "--workers", str(WORKERS))
    stream = oss.started(argv)
    time.sleep(5)
    try:
        changed = _deploy("-e", "oss_app_threads=9")                # a new gunicorn setting: reloaded node by node
    finally:
        restored = _deploy()                                        # and back: reloaded node by node again
    result = _finish(stream, 180)
    reloads = changed.count("RUNNING HANDLER [oss_app : Reload egov-oss one node at a time]")
    print(f"rolling deploy and back during {result['requests']} lookups: {result['failed']} failed "
          f"{result['failures']}; p95 {result['p95']} s")
    assert reloads == 1 and "oss-app-01" in changed and "oss-app-02" in changed, changed[-3000:]
    assert "Reload egov-oss one node at a time" in restored, restored[-3000:]
    assert int(result["requests"]) > 50, result
    assert int(result["failed"]) == 0, result
    # negative: the stream does see downtime: both nodes stopped at once fail the lookups meanwhile
    stream = oss.started([*argv[:-4], "--seconds", "12", "--workers", str(WORKERS)])
    time.sleep(3)
    for host in APP:
        oss.ssh(host, "systemctl stop egov-oss")
    time.sleep(4)
    for host in APP:
        oss.ssh(host, "systemctl start egov-oss")
    outage = _finish(stream, 120)
    assert int(outage["failed"]) > 0, outage
    for _ in range(30):                          # the balancer takes the nodes back before the next test
        if oss.flow(counter(COMMUNE), "lookup", "--number", str(taken["number"])).get("api_status") == 200:
            break
        time.sleep(2)


def test_killing_an_application_node_loses_only_the_requests_in_flight(oss: Oss) -> None:
    taken = oss.official(counter(COMMUNE), "intake", _first_official(COMMUNE), "--procedure", LAND_PROCEDURE)
    number = str(taken["number"])
    stream = oss.started(oss.flow_argv(counter(COMMUNE), "stream-lookup", "--number", number, "--seconds", "20",
                                       "--workers", str(WORKERS)))
    time.sleep(6)
    assert oss.crash(APP[0]) > 0                 # the node dies with everything it runs
    time.sleep(6)
    oss.revive()                                 # and boots again while the stream goes on
    result = _finish(stream, 120)
    print(f"lookups: {result['requests']} requests, {result['failed']} failed: {result['failures']}")
    assert int(result["requests"]) > 50, result                            # the stream really ran
    assert int(result["failed"]) <= WORKERS, result                        # at most the in-flight ones


def test_killing_the_primary_database_loses_no_committed_dossier(oss: Oss) -> None:
    uid = _first_official(COMMUNE)
    old = _leader(oss)
    t_start = time.time()
    stream = oss.started(oss.flow_argv(counter(COMMUNE), "stream-intake", "--user", uid, "--password",
                                       official_password(uid), "--procedure", LAND_PROCEDURE, "--seconds", "75",
                                       "--workers", "2"))
    time.sleep(10)
    killed_at = time.monotonic()
    killed_wall = time.time() - t_start
    assert oss.crash(old) > 0                    # the primary's host dies: nothing shuts down cleanly
    new = ""
    while time.monotonic() - killed_at < 90 and not new:
        time.sleep(2)
        other = next(h for h in DB if h != old)
        if any(m["role"] == "leader" and m["name"] == other for m in oss.patroni(other).get("members", [])):
            new = other
    promoted_after = round(time.monotonic() - killed_at, 1)
    result = _finish(stream, 180)
    numbers = list(result["numbers"])
    quoted = ",".join(f"'{n}'" for n in numbers)
    found = oss.ssh(new or DB[0], f"sudo -u postgres psql -d oss -Atc \"SELECT count(*) FROM oss.dossier "
                                  f"WHERE number IN ({quoted})\"", check=False).strip()
    print(f"primary {old} killed at {killed_wall:.1f} s; {new} promoted after {promoted_after} s; "
          f"{result['requests']} intakes, {len(numbers)} confirmed (the last at {result['last_ok_at']} s), "
          f"{found} of them on the new primary, {result['failed']} failed")
    # the old primary boots again: Patroni rewinds it and it follows as the synchronous standby
    oss.revive()
    rejoined = {}
    for _ in range(60):
        rejoined = {m["name"]: m["role"] for m in oss.patroni(new or DB[0]).get("members", [])}
        if rejoined.get(old) == "sync_standby":
            break
        time.sleep(2)
    assert new, f"no promotion within 90 s of killing {old}"
    assert promoted_after <= 60, promoted_after
    assert len(numbers) > 10 and found == str(len(numbers)), (found, len(numbers), result["failures"])
    # the application went on on the new primary during the stream
    assert float(result["last_ok_at"]) > killed_wall + promoted_after, result["last_ok_at"]
    assert rejoined.get(old) == "sync_standby", rejoined
    # and, the old primary back as the standby, an intake still works
    after = oss.official(counter(COMMUNE), "intake", uid, "--procedure", LAND_PROCEDURE)
    assert after.get("status") == 200, after

"""Testinfra baseline suite: one test per catalogue control, per lab host (ceph-ansible style).

Live: needs the lab up and EGOV_BASELINE=1, otherwise every live test is skipped with the reason.
    EGOV_BASELINE=1 pytest tests/baseline -m lab -n 8 --dist loadgroup
    EGOV_BASELINE=1 EGOV_BASELINE_HOSTS=dns-01,site_firewalls pytest tests/baseline -m lab -n 4 --dist loadgroup
"""

from __future__ import annotations

import functools

import pytest

from tests.baseline.catalogue import INVENTORY, controls, inventory, selected_hosts
from tests.baseline.checks import LabHost


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    concern = getattr(metafunc.module, "CONCERN", None)
    if concern is None or "control" not in metafunc.fixturenames:
        return
    hosts, reason = selected_hosts()
    items = controls(concern)
    if reason:
        params = [pytest.param("-", c, marks=pytest.mark.skip(reason=reason), id=f"{c['id']}") for c in items]
    else:
        params = [
            pytest.param(h, c, marks=pytest.mark.xdist_group(h), id=f"{h}-{c['id']}") for h in hosts for c in items
        ]
    metafunc.parametrize(("hostname", "control"), params)


@functools.cache
def _lab_host(name: str) -> LabHost:
    import testinfra

    backend = testinfra.get_host(f"ansible://{name}?ansible_inventory={INVENTORY}")
    return LabHost(name, backend, inventory()[name])


@pytest.fixture
def lab_host(hostname: str) -> LabHost:
    return _lab_host(hostname)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/baseline/test_" in str(item.fspath) and "control" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.lab)

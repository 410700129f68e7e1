"""Baseline controls: filesystem, permissions, SUID/SGID (concern `filesystem` of controls/catalogue.yml)."""

from tests.baseline.checks import verify

CONCERN = "filesystem"


def test_control(lab_host, control):
    verify(lab_host, control)

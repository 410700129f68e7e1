"""Baseline controls: auditd (concern `audit` of controls/catalogue.yml)."""

from tests.baseline.checks import verify

CONCERN = "audit"


def test_control(lab_host, control):
    verify(lab_host, control)

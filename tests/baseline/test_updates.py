"""Baseline controls: apt mirror and unattended upgrades (concern `updates` of controls/catalogue.yml)."""

from tests.baseline.checks import verify

CONCERN = "updates"


def test_control(lab_host, control):
    verify(lab_host, control)

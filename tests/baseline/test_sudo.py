"""Baseline controls: sudo and admins (concern `sudo` of controls/catalogue.yml)."""

from tests.baseline.checks import verify

CONCERN = "sudo"


def test_control(lab_host, control):
    verify(lab_host, control)

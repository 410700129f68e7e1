"""Baseline controls: SSH server (concern `ssh` of controls/catalogue.yml)."""

from tests.baseline.checks import verify

CONCERN = "ssh"


def test_control(lab_host, control):
    verify(lab_host, control)

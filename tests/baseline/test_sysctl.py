"""Baseline controls: kernel and network parameters (concern `sysctl` of controls/catalogue.yml)."""

from tests.baseline.checks import verify

CONCERN = "sysctl"


def test_control(lab_host, control):
    verify(lab_host, control)

"""Baseline controls: AIDE file integrity (concern `integrity` of controls/catalogue.yml)."""

from tests.baseline.checks import verify

CONCERN = "integrity"


def test_control(lab_host, control):
    verify(lab_host, control)

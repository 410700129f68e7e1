"""Baseline controls: kernel modules (concern `modules` of controls/catalogue.yml)."""

from tests.baseline.checks import verify

CONCERN = "modules"


def test_control(lab_host, control):
    verify(lab_host, control)

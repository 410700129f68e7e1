"""Baseline controls: legacy services and listeners (concern `services` of controls/catalogue.yml)."""

from tests.baseline.checks import verify

CONCERN = "services"


def test_control(lab_host, control):
    verify(lab_host, control)

"""Baseline controls: time zone and chrony (concern `time` of controls/catalogue.yml)."""

from tests.baseline.checks import verify

CONCERN = "time"


def test_control(lab_host, control):
    verify(lab_host, control)

"""Baseline controls: journald and rsyslog forwarding (concern `logging` of controls/catalogue.yml)."""

from tests.baseline.checks import verify

CONCERN = "logging"


def test_control(lab_host, control):
    verify(lab_host, control)

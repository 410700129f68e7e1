"""Baseline controls: core dumps (concern `coredump` of controls/catalogue.yml)."""

from tests.baseline.checks import verify

CONCERN = "coredump"


def test_control(lab_host, control):
    verify(lab_host, control)

"""Baseline controls: legal banners (concern `banner` of controls/catalogue.yml)."""

from tests.baseline.checks import verify

CONCERN = "banner"


def test_control(lab_host, control):
    verify(lab_host, control)

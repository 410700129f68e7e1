"""Baseline controls: host firewall (nftables) (concern `firewall` of controls/catalogue.yml)."""

from tests.baseline.checks import verify

CONCERN = "firewall"


def test_control(lab_host, control):
    verify(lab_host, control)

"""Baseline controls: accounts, login.defs, PAM (concern `accounts` of controls/catalogue.yml)."""

from tests.baseline.checks import verify

CONCERN = "accounts"


def test_control(lab_host, control):
    verify(lab_host, control)

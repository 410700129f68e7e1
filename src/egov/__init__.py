"""Tooling of the Sóc Trăng e-government infrastructure repository."""

__version__ = "0.1.0"

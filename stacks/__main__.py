"""Pulumi entry point: build the provincial cloud for the selected stack (prod or staging)."""

from province_cloud.program import run

run()

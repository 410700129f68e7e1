"""Where the Pulumi project and the policy pack live, and how to import them."""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
STACKS_DIR = REPO_ROOT / "stacks"
POLICY_DIR = STACKS_DIR / "policy"
STACKS = ("prod", "staging")


def make_stacks_importable() -> None:
    """Put ``stacks/`` (package province_cloud) and ``stacks/policy`` (package province_policies) on sys.path."""
    for directory in (STACKS_DIR, POLICY_DIR):
        if str(directory) not in sys.path:
            sys.path.insert(0, str(directory))

"""Where the network data (templates, registry, policy) lives."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]


def network_dir() -> Path:
    """network/ of the repository; EGOV_NETWORK_DIR overrides it (tests, packaged installs)."""
    return Path(os.environ.get("EGOV_NETWORK_DIR", REPO_ROOT / "network"))

"""Compare an intended nftables table with the running one (as `nft -s list table` prints it)."""

from __future__ import annotations

import difflib
import re

TABLE_FAMILY = "inet"
TABLE_NAME = "egov_policy"
_SET = re.compile(r"\{ ([^{}]*) \}")
_HANDLE = re.compile(r"\s+# handle \d+$")
_COUNTER = re.compile(r"counter packets \d+ bytes \d+")


def _sorted_set(match: re.Match[str]) -> str:
    return "{ " + ", ".join(sorted(item.strip() for item in match.group(1).split(","))) + " }"


def normalize(text: str) -> list[str]:
    """Whitespace, handles, counter values and the order of set elements do not matter."""
    out = []
    for raw in text.splitlines():
        line = _HANDLE.sub("", raw).strip()
        if not line or line.startswith("#"):
            continue
        line = _COUNTER.sub("counter", line)
        out.append(_SET.sub(_sorted_set, line))
    return out


def diff(intended: str, running: str) -> list[str]:
    """Unified diff running -> intended; empty when in sync."""
    lines = difflib.unified_diff(normalize(running), normalize(intended), "running", "intended", lineterm="", n=1)
    return list(lines)

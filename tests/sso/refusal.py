"""A flows.py result (dict) as a classified outcome (see tests/pki/tlsrefusal.py)."""

from __future__ import annotations

from typing import Any

from tests.pki.tlsrefusal import Outcome, classify_python_error, html_title

__all__ = ["outcome_of"]


def outcome_of(result: dict[str, Any]) -> Outcome:
    """`{"status", "body"}` -> http outcome; `{"tls_refused", "error"}` -> the error's class."""
    if "status" in result:
        return Outcome("http", int(result["status"]), html_title(str(result.get("body", ""))))
    if result.get("tls_refused"):
        return classify_python_error(str(result.get("error", "")))
    return Outcome("other", detail=str(result)[:300])

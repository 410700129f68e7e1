"""Reading resource properties safely: during a preview some values are unknown.

The policy SDK raises UnknownValueError when an unknown value is read; a policy that meets one
skips that check (the engine validates again when the value is known, during `up`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy.proxy import UnknownValueError

OPENSTACK = "openstack:"


class _Unknown:
    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN: Any = _Unknown()


def known(props: Mapping[str, Any], key: str, default: Any = None) -> Any:
    """props[key], ``default`` when absent, UNKNOWN when not known yet."""
    try:
        return props.get(key, default)
    except UnknownValueError:
        return UNKNOWN


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN


def first(props: Mapping[str, Any], key: str) -> Any:
    """The first element of a list property (e.g. schedulerHints), None when empty, UNKNOWN when unknown."""
    value = known(props, key)
    if value is None or is_unknown(value):
        return value
    try:
        return value[0] if isinstance(value, Sequence) and len(value) > 0 else None
    except UnknownValueError:
        return UNKNOWN


def tag_map(props: Mapping[str, Any]) -> dict[str, str] | None:
    """``tags`` ["k=v", ...] as a dict; None when there are none or they are not known."""
    tags = known(props, "tags")
    if tags is None or is_unknown(tags):
        return None
    out: dict[str, str] = {}
    for tag in tags:
        key, sep, value = str(tag).partition("=")
        if sep:
            out[key] = value
    return out


def number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

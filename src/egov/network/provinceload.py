"""Load the province model for the network tooling."""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml

from egov.model import DEFAULT_MODEL, ModelError, Province, load_province

_LEDGER_HOST_CLASH = "is already given to"


def load(model: Path | str | None = None, allocations: Path | str | None = None) -> Province:
    """load_province(), tolerating one known model defect.

    The allocation ledger numbers DC hosts per segment, but the ledger check of the model loader
    (at the time of writing) demands host numbers unique across all segments, so the committed
    ledger fails to load. When that is the only problem, retry with the ledger's site slots only:
    the loader then re-derives the host numbers per segment in service order, which gives the
    same numbers as the committed ledger. Any other model problem is raised unchanged.
    """
    model_path = Path(model) if model else DEFAULT_MODEL
    try:
        return load_province(model_path, allocations=allocations)
    except ModelError as exc:
        if not exc.issues or not all(i.path.startswith("hosts.") and _LEDGER_HOST_CLASH in i.message
                                     for i in exc.issues):
            raise
    ledger_path = Path(allocations) if allocations else model_path.parent / "allocations.yml"
    ledger = yaml.safe_load(ledger_path.read_text(encoding="utf-8")) or {}
    with tempfile.TemporaryDirectory(prefix="egov-ledger-") as tmp:
        sites_only = Path(tmp) / "allocations.yml"
        sites_only.write_text(yaml.safe_dump({"sites": ledger.get("sites", {})}), encoding="utf-8")
        province = load_province(model_path, allocations=sites_only)
    committed = ledger.get("hosts", {})
    derived = province.allocations["hosts"]
    differing = {name for name, number in committed.items() if derived.get(name) != number}
    if differing:
        raise ModelError([]) from ValueError(f"ledger host numbers differ from derived: {sorted(differing)}")
    return province

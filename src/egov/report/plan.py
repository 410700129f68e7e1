"""The plan's items as data (docs/plan-items.yml) and the check that they name only real files.

Each item says what the plan builds, its target figures and what implements it in the
repository (roles by name, everything else by path). :func:`missing_paths` lists every named
path that does not exist, so the plan page can never point an auditor at nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from egov.report.errors import ReportError

KINDS = ("roles", "playbooks", "stacks", "templates", "code", "docs", "tests")


@dataclass(frozen=True)
class PlanItem:
    id: str
    section: str
    title: str
    systems: str
    targets: tuple[str, ...]
    implemented_by: dict[str, tuple[str, ...]]    # kind (KINDS) -> names (roles) or paths
    controls: tuple[str, ...]                      # concerns of the control catalogue
    run_steps: tuple[str, ...]                     # beginnings of main-job step names
    gaps: str

    @property
    def anchor(self) -> str:
        """An HTML id for the item: 'item-2-3-1-3-1' for '2.3.1, 3.1'."""
        return "item-" + "-".join(part for part in "".join(c if c.isalnum() else " " for c in self.id).split())


def item_paths(item: PlanItem) -> list[tuple[str, str]]:
    """(kind, repository path) of everything the item names; a role is roles/<name>."""
    out = []
    for kind, names in item.implemented_by.items():
        for name in names:
            out.append((kind, f"roles/{name}" if kind == "roles" else name))
    return out


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ReportError(f"{where}: expected a list of strings, got {value!r}")
    return tuple(value)


def _item(entry: Any, where: str) -> PlanItem:
    if not isinstance(entry, dict) or not entry.get("id") or not entry.get("title"):
        raise ReportError(f"{where}: a plan item needs at least `id` and `title`")
    implemented = entry.get("implemented_by") or {}
    if not isinstance(implemented, dict) or set(implemented) - set(KINDS):
        raise ReportError(f"{where}.implemented_by: keys must be among {', '.join(KINDS)}")
    return PlanItem(id=str(entry["id"]), section=str(entry.get("section", "")), title=str(entry["title"]),
                    systems=str(entry.get("systems", "")), targets=_strings(entry.get("targets"), f"{where}.targets"),
                    implemented_by={k: _strings(v, f"{where}.implemented_by.{k}") for k, v in implemented.items()},
                    controls=_strings(entry.get("controls"), f"{where}.controls"),
                    run_steps=_strings(entry.get("run_steps"), f"{where}.run_steps"),
                    gaps=str(entry.get("gaps") or ""))


def load_plan(path: Path) -> list[PlanItem]:
    """The plan items of the file, in order; ReportError naming the file and item when malformed."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ReportError(f"{path}: cannot read the plan items ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise ReportError(f"{path}: expected a mapping with an `items` list")
    items = [_item(entry, f"{path.name}: items[{index}]") for index, entry in enumerate(data["items"])]
    ids = [item.id for item in items]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ReportError(f"{path}: duplicate plan item ids {', '.join(duplicates)}")
    return items


def missing_paths(items: list[PlanItem], root: Path) -> list[str]:
    """'<item id>: <kind> <path> does not exist' for every named path missing under root."""
    return [f"{item.id}: {kind} {path} does not exist" for item in items for kind, path in item_paths(item)
            if not (root / path).exists()]


def unknown_concerns(items: list[PlanItem], concerns: set[str]) -> list[str]:
    """'<item id>: control concern <c> is not in the catalogue' for every unknown concern."""
    return [f"{item.id}: control concern {c} is not in the catalogue" for item in items for c in item.controls
            if c not in concerns]

"""``egov-oss load-catalogue FILE``: upsert the agencies, procedures (with steps) and holidays, idempotently.

The file is rendered by Ansible from the model::

    {"agencies":   [{"slug", "name", "kind": "department|district|commune", "parent": <district slug|null>}],
     "procedures": [{"code", "name", "unit_kind", "deadline_days",
                     "steps": [{"name", "level", "department": <slug, level department only>, "days"}]}],
     "holidays":   ["2026-04-30", ...]}                                        (optional)

The load compares with what is stored and writes only differences, so a second load of the same file reports
everything unchanged. Nothing is deleted (a dossier may still refer to a procedure the model dropped).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .db import Cursor, Database
from .errors import CatalogueError

KINDS = ("department", "district", "commune")


@dataclass
class Counts:
    """Per table: rows inserted, updated, unchanged."""

    inserted: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)

    def add(self, table: str, what: str) -> None:
        """Count one row of ``table`` as ``what`` (inserted / updated / unchanged)."""
        bucket: dict[str, int] = getattr(self, what)
        bucket[table] = bucket.get(table, 0) + 1

    def summary(self) -> str:
        """One line per table: ``agency: 3 inserted, 0 updated, 1 unchanged``."""
        tables = sorted(set(self.inserted) | set(self.updated) | set(self.unchanged))
        return "\n".join(f"{t}: {self.inserted.get(t, 0)} inserted, {self.updated.get(t, 0)} updated, "
                         f"{self.unchanged.get(t, 0)} unchanged" for t in tables)


def read(path: str | Path) -> dict[str, Any]:
    """Parse and validate the catalogue file; raise :class:`CatalogueError` with the first problem found."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise CatalogueError(f"cannot read catalogue {path}: {e.strerror}") from e
    except json.JSONDecodeError as e:
        raise CatalogueError(f"catalogue {path} is not valid JSON: {e}") from e
    validate(data)
    return data


def validate(data: Any) -> None:
    """Check the catalogue's shape and references (parents are districts, step departments exist)."""
    if not isinstance(data, dict) or not isinstance(data.get("agencies"), list):
        raise CatalogueError("catalogue: 'agencies' list is required")
    kinds: dict[str, str] = {}
    for a in data["agencies"]:
        if not all(isinstance(a.get(k), str) and a[k] for k in ("slug", "name", "kind")):
            raise CatalogueError(f"catalogue: agency needs slug, name and kind: {a!r}")
        if a["kind"] not in KINDS:
            raise CatalogueError(f"catalogue: agency {a['slug']}: unknown kind {a['kind']!r}")
        kinds[a["slug"]] = a["kind"]
    for a in data["agencies"]:
        parent = a.get("parent")
        if a["kind"] == "commune" and kinds.get(parent or "") != "district":
            raise CatalogueError(f"catalogue: commune {a['slug']}: parent {parent!r} is not a district")
        if a["kind"] != "commune" and parent:
            raise CatalogueError(f"catalogue: {a['kind']} {a['slug']} cannot have a parent")
    for p in data.get("procedures", []):
        where = f"catalogue: procedure {p.get('code')!r}"
        if not isinstance(p.get("code"), str) or not isinstance(p.get("name"), str):
            raise CatalogueError(f"{where}: code and name are required")
        if p.get("unit_kind") not in KINDS:
            raise CatalogueError(f"{where}: unknown unit_kind {p.get('unit_kind')!r}")
        if not isinstance(p.get("deadline_days"), int) or p["deadline_days"] < 0:
            raise CatalogueError(f"{where}: deadline_days must be a non-negative integer")
        steps = p.get("steps")
        if not isinstance(steps, list) or not steps:
            raise CatalogueError(f"{where}: at least one step is required")
        for s in steps:
            if s.get("level") not in KINDS:
                raise CatalogueError(f"{where}: step {s.get('name')!r}: unknown level {s.get('level')!r}")
            if s["level"] == "department" and kinds.get(s.get("department") or "") != "department":
                raise CatalogueError(f"{where}: step {s.get('name')!r}: {s.get('department')!r} is not a department")
    for h in data.get("holidays", []):
        try:
            dt.date.fromisoformat(h)
        except (TypeError, ValueError) as e:
            raise CatalogueError(f"catalogue: holiday {h!r} is not a YYYY-MM-DD date") from e


def _steps(p: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(i, s["name"], s["level"], s.get("department") if s["level"] == "department" else None,
             int(s.get("days", 0))) for i, s in enumerate(p["steps"])]


def _upsert(cur: Cursor, counts: Counts, data: dict[str, Any]) -> None:
    """Compare with the stored rows and write only the differences, counting each row."""
    cur.execute("SELECT slug, name, kind, parent FROM oss.agency")
    have = {r["slug"]: (r["name"], r["kind"], r["parent"]) for r in cur.fetchall()}
    for a in data["agencies"]:
        want = (a["name"], a["kind"], a.get("parent") or None)
        if a["slug"] not in have:
            cur.execute("INSERT INTO oss.agency (slug, name, kind, parent) VALUES (%s, %s, %s, %s)",
                        (a["slug"], *want))
            counts.add("agency", "inserted")
        elif have[a["slug"]] != want:
            cur.execute("UPDATE oss.agency SET name = %s, kind = %s, parent = %s WHERE slug = %s",
                        (*want, a["slug"]))
            counts.add("agency", "updated")
        else:
            counts.add("agency", "unchanged")
    cur.execute("SELECT code, name, unit_kind, deadline_days FROM oss.procedure")
    procs = {r["code"]: (r["name"], r["unit_kind"], r["deadline_days"]) for r in cur.fetchall()}
    cur.execute("SELECT procedure_code, position, name, level, department, days FROM oss.procedure_step"
                " ORDER BY procedure_code, position")
    steps: dict[str, list[tuple[Any, ...]]] = {}
    for r in cur.fetchall():
        steps.setdefault(r["procedure_code"], []).append(
            (r["position"], r["name"], r["level"], r["department"], r["days"]))
    for p in data.get("procedures", []):
        want_p = (p["name"], p["unit_kind"], p["deadline_days"])
        want_s = _steps(p)
        if p["code"] not in procs:
            cur.execute("INSERT INTO oss.procedure (code, name, unit_kind, deadline_days) VALUES (%s, %s, %s, %s)",
                        (p["code"], *want_p))
            what = "inserted"
        elif procs[p["code"]] != want_p or steps.get(p["code"], []) != want_s:
            cur.execute("UPDATE oss.procedure SET name = %s, unit_kind = %s, deadline_days = %s WHERE code = %s",
                        (*want_p, p["code"]))
            cur.execute("DELETE FROM oss.procedure_step WHERE procedure_code = %s", (p["code"],))
            what = "updated"
        else:
            counts.add("procedure", "unchanged")
            continue
        cur.executemany("INSERT INTO oss.procedure_step (procedure_code, position, name, level, department, days)"
                        " VALUES (%s, %s, %s, %s, %s, %s)", [(p["code"], *s) for s in want_s])
        counts.add("procedure", what)
    cur.execute("SELECT day FROM oss.holiday")
    days = {r["day"] for r in cur.fetchall()}
    for h in data.get("holidays", []):
        day = dt.date.fromisoformat(h)
        if day in days:
            counts.add("holiday", "unchanged")
        else:
            cur.execute("INSERT INTO oss.holiday (day) VALUES (%s)", (day,))
            days.add(day)
            counts.add("holiday", "inserted")


def load(db: Database, data: dict[str, Any]) -> Counts:
    """Upsert a validated catalogue in one transaction, as ``egov_oss_owner``; return the counts."""
    validate(data)
    counts = Counts()

    def work(cur: Cursor) -> None:
        cur.execute("SET LOCAL ROLE egov_oss_owner")
        _upsert(cur, counts, data)

    db.run(work)
    return counts

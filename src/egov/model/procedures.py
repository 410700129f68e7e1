"""The administrative procedures of the one-stop-shop (issue 14): their file's schema and checks.

The catalogue is its own file (``province.procedures_file``, e.g. ``model/procedures.yml``): one entry
per procedure, where the citizen files it (``unit_kind``), its legal deadline in working days and the
steps of its route through the levels (liên thông). Pydantic checks each entry's shape; the checks
here need the rest of the model (its departments, which unit types run a one-stop-shop) and report
through the loader's collector, so each problem names the file, line and key like every model error.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Annotated, Literal

from pydantic import Field

from egov.model.schema import Department, Strict

Level = Literal["commune", "district", "department"]
LEVELS: tuple[Level, ...] = ("commune", "district", "department")
# fewest procedures a unit type running a one-stop-shop must offer (issue 14)
MIN_PER_UNIT_KIND = 5
# working days, written as a whole number (3, not 3.0 nor "3")
Days = Annotated[int, Field(strict=True, ge=1, le=365)]

# (key path, message) -> None: the loader's collector bound to the procedures file and its lines
Report = Callable[[tuple[object, ...], str], None]


class Step(Strict):
    """One level's part of a procedure: at a department level, which department."""

    name: str = Field(min_length=1)
    level: Level
    department: str | None = None
    days: Days


class Procedure(Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9-]{1,47}$")
    name: str = Field(min_length=1)
    unit_kind: Level
    deadline_days: Days
    basis: str = Field(min_length=1, description="the legal basis of the procedure and its deadline")
    steps: list[Step] = Field(min_length=1)


class ProceduresFile(Strict):
    """The whole of the procedures file."""

    procedures: list[Procedure]


def check_procedures(procedures: Sequence[Procedure | None], departments: Sequence[Department],
                     running: set[str], report: Report) -> None:
    """Every cross-check of the catalogue; ``None`` stands for an entry whose shape is invalid (already
    reported): it keeps the indices of the others. ``running``: the unit types with a one-stop-shop."""
    known = {d.code: d for d in departments}
    codes = Counter(p.code for p in procedures if p is not None)
    for index, procedure in enumerate(procedures):
        if procedure is None:
            continue
        key: tuple[object, ...] = ("procedures", index)
        if codes[procedure.code] > 1:
            report((*key, "code"), f"duplicate procedure code {procedure.code!r}")
        first = procedure.steps[0].level
        if first != procedure.unit_kind:
            report((*key, "steps", 0, "level"), f"the first step is at the {first} level, but the procedure is "
                   f"filed at the {procedure.unit_kind} (unit_kind): the dossier starts where it is filed")
        if procedure.unit_kind not in running:
            report((*key, "unit_kind"), f"no {procedure.unit_kind} runs a one-stop-shop to file it at")
        for s_index, step in enumerate(procedure.steps):
            _check_step(step, (*key, "steps", s_index), known, report)
        total = sum(step.days for step in procedure.steps)
        if total > procedure.deadline_days:
            report((*key, "steps"), f"the steps take {total} working days, beyond the legal deadline of "
                   f"{procedure.deadline_days} (deadline_days)")


def _check_step(step: Step, key: tuple[object, ...], known: dict[str, Department], report: Report) -> None:
    if step.level != "department":
        if step.department is not None:
            report((*key, "department"), f"a step at the {step.level} level names no department "
                   f"(got {step.department!r}): only department-level steps do")
        return
    if step.department is None:
        report(key, "a department-level step needs `department` (the code of a department of the model)")
    elif step.department not in known:
        report((*key, "department"), f"unknown department {step.department!r}")
    elif not known[step.department].one_stop_shop:
        report((*key, "department"), f"department {step.department!r} runs no one-stop-shop "
               "(one_stop_shop: false): it cannot take a step of a dossier")


def check_counts(procedures: Sequence[Procedure | None], running: set[str], report: Report) -> None:
    """Each unit type with a one-stop-shop offers at least MIN_PER_UNIT_KIND procedures."""
    counts = Counter(p.unit_kind for p in procedures if p is not None)
    for kind in LEVELS:
        if kind in running and counts[kind] < MIN_PER_UNIT_KIND:
            report(("procedures",), f"{counts[kind]} procedures are filed at a {kind}; every unit type "
                   f"running a one-stop-shop needs at least {MIN_PER_UNIT_KIND}")

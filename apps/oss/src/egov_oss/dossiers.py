"""Dossiers: intake at a counter, moving along the procedure's steps, transfers between agencies, lookups.

Statuses: ``received`` → ``in_progress`` (step i) → ``transferred`` (to the agency of the next step) → ... →
``resolved`` | ``rejected``. The agency of a step: level ``commune`` = the recording commune, ``district`` = the
recording commune's parent district (or the recording district), ``department`` = the step's department.

Every function runs one transaction through :meth:`Database.run` with ``egov.agency`` set, so the row-level
security policies decide what is visible (every agency that has held a dossier) and changeable (its current
holder); the checks here give clear messages, the policies are the guarantee.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from psycopg import errors as pgerrors

from .db import Cursor, Database
from .errors import DossierError, NotFound

STATUSES = ("received", "in_progress", "transferred", "resolved", "rejected")
FINAL = ("resolved", "rejected")
ACTIONS = ("advance", "transfer", "resolve", "reject")
LABELS = {"received": "Đã tiếp nhận", "in_progress": "Đang xử lý", "transferred": "Đã chuyển",
          "resolved": "Đã giải quyết", "rejected": "Từ chối giải quyết"}


def number_of(agency: str, year: int, seq: int) -> str:
    """The dossier number ``<agency slug>-<year>-<6-digit sequence>``."""
    return f"{agency}-{year}-{seq:06d}"


def _agency(cur: Cursor, slug: str) -> dict[str, Any]:
    cur.execute("SELECT slug, name, kind, parent FROM oss.agency WHERE slug = %s", (slug,))
    row = cur.fetchone()
    if row is None:
        raise DossierError(f"unknown agency {slug!r}")
    return dict(row)


def intake(db: Database, agency: str, official: str, procedure: str, applicant_name: str,
           applicant_contact: str, key: str, received_on: dt.date | None = None) -> str:
    """Record a dossier at ``agency``'s counter; return its number.

    ``key`` is the form token: a repeated POST with the same key (a retry after a failover) returns the dossier
    the first POST created. The per-agency-and-year counter row is updated in the same transaction, so numbers
    are gap-free (a failed intake rolls its increment back) and concurrent intakes of one agency serialise on it.
    """
    if not applicant_name.strip() or not applicant_contact.strip() or not key:
        raise DossierError("applicant name, contact and the form token are required")

    def work(cur: Cursor) -> str:
        cur.execute("SELECT number FROM oss.dossier WHERE agency = %s AND idempotency_key = %s", (agency, key))
        row = cur.fetchone()
        if row is not None:
            return str(row["number"])
        kind = _agency(cur, agency)["kind"]
        cur.execute("SELECT name, unit_kind, deadline_days FROM oss.procedure WHERE code = %s", (procedure,))
        proc = cur.fetchone()
        if proc is None:
            raise DossierError(f"unknown procedure {procedure!r}")
        if proc["unit_kind"] != kind:
            raise DossierError(f"procedure {procedure} is filed at a {proc['unit_kind']}, not at a {kind}")
        cur.execute("SELECT coalesce(%s::date, current_date) AS d", (received_on,))
        day: dt.date = cur.fetchone()["d"]  # type: ignore[index]
        cur.execute("INSERT INTO oss.dossier_counter (agency, year, last) VALUES (%s, %s, 1)"
                    " ON CONFLICT (agency, year) DO UPDATE SET last = oss.dossier_counter.last + 1 RETURNING last",
                    (agency, day.year))
        seq = cur.fetchone()["last"]  # type: ignore[index]
        number = number_of(agency, day.year, seq)
        cur.execute(
            "INSERT INTO oss.dossier (number, agency, holder, holders, procedure_code, applicant_name,"
            " applicant_contact, status, step, received_on, due_on, idempotency_key, created_by)"
            " VALUES (%(n)s, %(a)s, %(a)s, ARRAY[%(a)s], %(p)s, %(name)s, %(contact)s, 'received', 0, %(d)s,"
            " oss.add_working_days(%(d)s, %(days)s), %(key)s, %(who)s)"
            " ON CONFLICT (agency, idempotency_key) DO NOTHING RETURNING id",
            {"n": number, "a": agency, "p": procedure, "name": applicant_name.strip(),
             "contact": applicant_contact.strip(), "d": day, "days": proc["deadline_days"], "key": key,
             "who": official})
        new = cur.fetchone()
        if new is None:  # the same form token committed meanwhile: undo our increment, answer with theirs
            raise _Duplicate()
        cur.execute("INSERT INTO oss.dossier_history (dossier_id, agency, official, from_status, to_status, step)"
                    " VALUES (%s, %s, %s, NULL, 'received', 0)", (new["id"], agency, official))
        return number

    try:
        return db.run(work, agency=agency, official=official, retry=True)
    except _Duplicate:
        return db.run(lambda cur: _existing(cur, agency, key), agency=agency, retry=True)


class _Duplicate(Exception):
    """Internal: a concurrent intake with the same form token won."""


def _existing(cur: Cursor, agency: str, key: str) -> str:
    cur.execute("SELECT number FROM oss.dossier WHERE agency = %s AND idempotency_key = %s", (agency, key))
    row = cur.fetchone()
    if row is None:
        raise DossierError("intake failed")
    return str(row["number"])


def held(db: Database, agency: str, *, limit: int = 200) -> list[dict[str, Any]]:
    """The dossiers visible to ``agency`` (held now or before), open ones first, newest first."""
    def work(cur: Cursor) -> list[dict[str, Any]]:
        cur.execute(
            "SELECT d.number, d.status, d.holder, d.holder = %s AS mine, d.received_on, d.due_on, d.applicant_name,"
            " p.name AS procedure FROM oss.dossier d JOIN oss.procedure p ON p.code = d.procedure_code"
            " ORDER BY d.status IN ('resolved', 'rejected'), d.received_on DESC, d.id DESC LIMIT %s",
            (agency, limit))
        return [dict(r) for r in cur.fetchall()]
    return db.run(work, agency=agency, retry=True)


def _load(cur: Cursor, number: str) -> dict[str, Any]:
    cur.execute("SELECT d.*, p.name AS procedure FROM oss.dossier d JOIN oss.procedure p ON p.code = d.procedure_code"
                " WHERE d.number = %s", (number,))
    row = cur.fetchone()
    if row is None:
        raise NotFound(f"no dossier {number}")
    dossier = dict(row)
    cur.execute("SELECT position, name, level, department, days FROM oss.procedure_step WHERE procedure_code = %s"
                " ORDER BY position", (dossier["procedure_code"],))
    dossier["steps"] = [dict(r) for r in cur.fetchall()]
    return dossier


def get(db: Database, agency: str, number: str) -> dict[str, Any]:
    """One dossier with its steps and history, as ``agency`` sees it; :class:`NotFound` if not visible."""
    def work(cur: Cursor) -> dict[str, Any]:
        dossier = _load(cur, number)
        cur.execute("SELECT h.at, h.agency, a.name AS agency_name, h.official, h.from_status, h.to_status, h.step,"
                    " h.note FROM oss.dossier_history h JOIN oss.agency a ON a.slug = h.agency"
                    " WHERE h.dossier_id = %s ORDER BY h.id", (dossier["id"],))
        dossier["history"] = [dict(r) for r in cur.fetchall()]
        return dossier
    return db.run(work, agency=agency, retry=True)


def step_agency(cur: Cursor, dossier: dict[str, Any], position: int) -> str:
    """The agency responsible for step ``position`` of ``dossier``'s procedure."""
    step = dossier["steps"][position]
    if step["level"] == "department":
        return str(step["department"])
    recording = _agency(cur, dossier["agency"])
    if step["level"] == recording["kind"]:
        return str(recording["slug"])
    if step["level"] == "district" and recording["kind"] == "commune":
        return str(recording["parent"])
    raise DossierError(f"step {position + 1} is at a {step['level']}, which a {recording['kind']} dossier cannot reach")


def act(db: Database, agency: str, official: str, number: str, action: str, note: str = "") -> str:
    """Apply ``action`` (advance / transfer / resolve / reject) for ``agency``; return the new status."""
    if action not in ACTIONS:
        raise DossierError(f"unknown action {action!r}")

    def work(cur: Cursor) -> str:
        d = _load(cur, number)
        if d["holder"] != agency:
            raise DossierError(f"dossier {number} is held by {d['holder']}, not by {agency}")
        status, step, last = d["status"], d["step"], len(d["steps"]) - 1
        if status in FINAL:
            raise DossierError(f"dossier {number} is already {status}")
        holder, holders, closed = agency, list(d["holders"]), None
        if action == "reject":
            new, closed = "rejected", True
        elif action == "resolve":
            if status != "in_progress" or step != last:
                raise DossierError("only a dossier in progress at its last step can be resolved")
            new, closed = "resolved", True
        elif action == "advance" and status in ("received", "transferred"):
            new = "in_progress"
        else:
            if step >= last:
                raise DossierError("this is the last step: resolve or reject the dossier")
            target = step_agency(cur, d, step + 1)
            if action == "advance" and target != agency:
                raise DossierError(f"the next step is at {target}: transfer the dossier")
            if action == "transfer" and target == agency:
                raise DossierError("the next step is at this agency: advance instead of transferring")
            step += 1
            if target == agency:
                new = "in_progress"
            else:
                new, holder = "transferred", target
                if target not in holders:
                    holders.append(target)
        cur.execute("UPDATE oss.dossier SET status = %s, step = %s, holder = %s, holders = %s,"
                    " closed_on = CASE WHEN %s THEN current_date END"
                    " WHERE id = %s AND holder = %s AND status = %s RETURNING id",
                    (new, step, holder, holders, bool(closed), d["id"], agency, status))
        if cur.fetchone() is None:
            raise DossierError(f"dossier {number} changed meanwhile; reload it")
        cur.execute("INSERT INTO oss.dossier_history (dossier_id, agency, official, from_status, to_status, step, note)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s)", (d["id"], agency, official, status, new, step, note))
        return new

    try:
        return db.run(work, agency=agency, official=official)
    except pgerrors.InsufficientPrivilege as e:  # a row-level security policy said no
        raise DossierError(f"refused by the database: {e.diag.message_primary}") from e


def public(db: Database, number: str) -> dict[str, Any] | None:
    """The citizens' view (masked name, agency names, no officials) through ``oss.public_dossier``."""
    def work(cur: Cursor) -> dict[str, Any] | None:
        cur.execute("SELECT oss.public_dossier(%s) AS j", (number,))
        row = cur.fetchone()
        return None if row is None or row["j"] is None else dict(row["j"])
    return db.run(work, retry=True)


def gateway(db: Database, number: str) -> dict[str, Any] | None:
    """The LGSP gateway's full view through ``oss.gateway_dossier``."""
    def work(cur: Cursor) -> dict[str, Any] | None:
        cur.execute("SELECT oss.gateway_dossier(%s) AS j", (number,))
        row = cur.fetchone()
        return None if row is None or row["j"] is None else dict(row["j"])
    return db.run(work, retry=True)


def procedures_for(db: Database, agency: str) -> list[dict[str, Any]]:
    """The procedures filed at ``agency``'s kind (for the intake form)."""
    def work(cur: Cursor) -> list[dict[str, Any]]:
        cur.execute("SELECT p.code, p.name, p.deadline_days FROM oss.procedure p JOIN oss.agency a"
                    " ON a.kind = p.unit_kind WHERE a.slug = %s ORDER BY p.code", (agency,))
        return [dict(r) for r in cur.fetchall()]
    return db.run(work, agency=agency, retry=True)


def agency_exists(db: Database, slug: str) -> bool:
    """Whether ``slug`` is an agency of the catalogue (login refuses others)."""
    def work(cur: Cursor) -> bool:
        cur.execute("SELECT 1 FROM oss.agency WHERE slug = %s", (slug,))
        return cur.fetchone() is not None
    return db.run(work, retry=True)

"""Intake (numbering, working-day due dates, idempotency), steps and transfers, and the RLS visibility rules,
both through the application and at the SQL level as the app role."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from egov_oss import dossiers
from egov_oss.errors import DossierError, NotFound
from psycopg import errors as pgerrors

from conftest import Pg

COMMUNE, OTHER, DISTRICT, DEPT = "xa-an-lac-thon", "xa-an-my", "huyen-ke-sach", "so-tnmt"
FRIDAY = dt.date(2026, 8, 28)


def _intake(pg: Pg, key: str, agency: str = COMMUNE, procedure: str = "DD-01",
            day: dt.date | None = FRIDAY) -> str:
    return dossiers.intake(pg.app_db(), agency, "canbo1", procedure, "Nguyễn Văn An", "0912345678", key, day)


def test_numbers_are_per_agency_and_year_and_gap_free(pg: Pg) -> None:
    assert _intake(pg, "k1") == f"{COMMUNE}-2026-000001"
    with pytest.raises(DossierError, match="unknown procedure"):
        _intake(pg, "k2", procedure="NOPE-1")
    with pytest.raises(DossierError, match="filed at a district"):
        _intake(pg, "k3", procedure="KD-01")
    assert _intake(pg, "k4") == f"{COMMUNE}-2026-000002"  # the failed intakes consumed no number
    assert _intake(pg, "k1", agency=OTHER) == f"{OTHER}-2026-000001"
    assert _intake(pg, "k5", day=dt.date(2027, 1, 4)) == f"{COMMUNE}-2027-000001"
    assert _intake(pg, "k6", agency=DISTRICT, procedure="KD-01") == f"{DISTRICT}-2026-000001"


def test_due_date_counts_working_days_and_holidays(pg: Pg) -> None:
    # Friday 28/8 + 3 working days: Mon 31/8, (1/9 and 2/9 holidays), Thu 3/9, Fri 4/9
    number = _intake(pg, "k1", procedure="HT-01")
    d = dossiers.get(pg.app_db(), COMMUNE, number)
    assert (d["received_on"], d["due_on"]) == (FRIDAY, dt.date(2026, 9, 4))
    # Wednesday 7/10 + 30 working days = six weeks later, 18/11
    d = dossiers.get(pg.app_db(), COMMUNE, _intake(pg, "k2", day=dt.date(2026, 10, 7)))
    assert d["due_on"] == dt.date(2026, 11, 18)


def test_same_form_token_never_duplicates(pg: Pg) -> None:
    first = _intake(pg, "form-token-1")
    assert _intake(pg, "form-token-1") == first
    with psycopg.connect(pg.admin) as conn:
        assert conn.execute("SELECT count(*) FROM oss.dossier").fetchone() == (1,)
        assert conn.execute("SELECT last FROM oss.dossier_counter").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM oss.dossier_history").fetchone() == (1,)


def test_transfer_commune_district_department_and_visibility(pg: Pg) -> None:
    db = pg.app_db()
    number = _intake(pg, "k1")
    assert dossiers.act(db, COMMUNE, "canbo1", number, "advance") == "in_progress"
    with pytest.raises(DossierError, match="transfer the dossier"):
        dossiers.act(db, COMMUNE, "canbo1", number, "advance")
    with pytest.raises(DossierError, match="last step"):
        dossiers.act(db, COMMUNE, "canbo1", number, "resolve")
    assert dossiers.act(db, COMMUNE, "canbo1", number, "transfer", "đủ điều kiện") == "transferred"
    d = dossiers.get(db, DISTRICT, number)
    assert (d["holder"], d["step"], d["holders"]) == (DISTRICT, 1, [COMMUNE, DISTRICT])
    assert dossiers.get(db, COMMUNE, number)["status"] == "transferred"  # the recording commune still sees it
    with pytest.raises(NotFound):
        dossiers.get(db, OTHER, number)  # another commune does not
    with pytest.raises(NotFound):
        dossiers.get(db, DEPT, number)  # nor the department, yet
    assert [r["number"] for r in dossiers.held(db, OTHER)] == []
    assert [r["mine"] for r in dossiers.held(db, COMMUNE)] == [False]
    with pytest.raises(DossierError, match="held by huyen-ke-sach"):
        dossiers.act(db, COMMUNE, "canbo1", number, "reject")
    assert dossiers.act(db, DISTRICT, "canbo2", number, "advance") == "in_progress"
    assert dossiers.act(db, DISTRICT, "canbo2", number, "transfer") == "transferred"
    assert dossiers.act(db, DEPT, "canbo3", number, "advance") == "in_progress"
    with pytest.raises(DossierError, match="last step"):
        dossiers.act(db, DEPT, "canbo3", number, "transfer")
    assert dossiers.act(db, DEPT, "canbo3", number, "resolve") == "resolved"
    with pytest.raises(DossierError, match="already resolved"):
        dossiers.act(db, DEPT, "canbo3", number, "reject")
    history = dossiers.get(db, COMMUNE, number)["history"]
    assert [(h["agency"], h["from_status"], h["to_status"]) for h in history] == [
        (COMMUNE, None, "received"), (COMMUNE, "received", "in_progress"), (COMMUNE, "in_progress", "transferred"),
        (DISTRICT, "transferred", "in_progress"), (DISTRICT, "in_progress", "transferred"),
        (DEPT, "transferred", "in_progress"), (DEPT, "in_progress", "resolved")]
    assert history[2]["note"] == "đủ điều kiện"


def _as_app(pg: Pg, agency: str) -> psycopg.Connection[tuple[object, ...]]:
    conn = psycopg.connect(pg.app)
    conn.execute("SELECT set_config('egov.agency', %s, true)", (agency,))
    return conn


def test_rls_at_the_sql_level(pg: Pg) -> None:
    number = _intake(pg, "k1")
    db = pg.app_db()
    dossiers.act(db, COMMUNE, "canbo1", number, "advance")
    dossiers.act(db, COMMUNE, "canbo1", number, "transfer")
    count = "SELECT count(*) FROM oss.dossier WHERE number = %s"
    hist = "SELECT count(*) FROM oss.dossier_history h JOIN oss.dossier d ON d.id = h.dossier_id WHERE d.number = %s"
    for agency, seen, history in ((COMMUNE, 1, 3), (DISTRICT, 1, 3), (OTHER, 0, 0), ("", 0, 0)):
        with _as_app(pg, agency) as conn:
            assert conn.execute(count, (number,)).fetchone() == (seen,), agency
            assert conn.execute(hist, (number,)).fetchone() == (history,), agency
            conn.rollback()
    with _as_app(pg, COMMUNE) as conn:  # visible but no longer held: an UPDATE touches nothing
        assert conn.execute("UPDATE oss.dossier SET status = 'rejected' WHERE number = %s", (number,)).rowcount == 0
        conn.rollback()
    with _as_app(pg, OTHER) as conn, pytest.raises(pgerrors.InsufficientPrivilege):  # forged history
        conn.execute("INSERT INTO oss.dossier_history (dossier_id, agency, official, to_status, step)"
                     " SELECT 1, 'xa-an-my', 'x', 'resolved', 0")
    with _as_app(pg, OTHER) as conn, pytest.raises(pgerrors.InsufficientPrivilege):  # a dossier for someone else
        conn.execute("INSERT INTO oss.dossier (number, agency, holder, holders, procedure_code, applicant_name,"
                     " applicant_contact, status, received_on, due_on, idempotency_key, created_by) VALUES"
                     " ('x', 'xa-an-lac-thon', 'xa-an-lac-thon', '{xa-an-lac-thon}', 'HT-01', 'a', 'b', 'received',"
                     " current_date, current_date, 'k', 'x')")
    with _as_app(pg, DISTRICT) as conn, pytest.raises(pgerrors.InsufficientPrivilege):  # no DELETE at all
        conn.execute("DELETE FROM oss.dossier")
    with psycopg.connect(pg.admin) as conn, pytest.raises(pgerrors.RaiseException, match="append-only"):
        conn.execute("UPDATE oss.dossier_history SET note = 'rewritten'")  # not even the superuser
    with psycopg.connect(pg.app) as conn, pytest.raises(pgerrors.InsufficientPrivilege):  # cannot disable RLS
        conn.execute("ALTER TABLE oss.dossier DISABLE ROW LEVEL SECURITY")


def test_retry_once_on_a_lost_connection(pg: Pg) -> None:
    number = _intake(pg, "k1")
    db = pg.app_db(pool_size=1)
    assert dossiers.get(db, COMMUNE, number)["number"] == number  # leaves one pooled connection

    def kill() -> None:
        with psycopg.connect(pg.admin, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'egov_oss_app'"
                         " AND datname = current_database()")

    kill()
    assert dossiers.get(db, COMMUNE, number)["number"] == number  # retried on a fresh connection
    kill()
    with pytest.raises(psycopg.OperationalError):  # actions are not retried
        dossiers.act(db, COMMUNE, "canbo1", number, "advance")
    db.close()

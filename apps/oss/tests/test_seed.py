"""The benchmark seed: server-side generation, gap-free numbers continuing after it, sensible statuses."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import psycopg
import pytest
from egov_oss import cli, dossiers, seed
from egov_oss.errors import OssError

from conftest import Pg


def test_seed_2000(pg: Pg) -> None:
    started = time.monotonic()
    result = seed.seed(pg.admin_db(), 2000, 2025)
    assert time.monotonic() - started < 10
    assert result.dossiers == 2000 and result.agencies == 7
    assert 2000 < result.history < 6000 and result.db_size.endswith(("kB", "MB"))
    with psycopg.connect(pg.admin) as conn:
        # numbers are 1..n per agency with no gap, and the counters know it
        gaps = conn.execute(
            "SELECT d.agency, count(*), max(split_part(d.number, '-', -1)::int), c.last FROM oss.dossier d"
            " JOIN oss.dossier_counter c ON c.agency = d.agency AND c.year = 2025 GROUP BY d.agency, c.last"
        ).fetchall()
        assert len(gaps) == 7 and all(n == top == last for _, n, top, last in gaps)
        rows = conn.execute("SELECT status, count(*) FROM oss.dossier GROUP BY status").fetchall()
        statuses: dict[str, int] = dict(rows)
        assert statuses["resolved"] > 1200 and set(statuses) == {"received", "in_progress", "resolved", "rejected"}
        assert conn.execute("SELECT count(*) FROM oss.dossier WHERE extract(isodow FROM received_on) > 5"
                            " OR received_on > due_on OR extract(year FROM received_on) <> 2025").fetchone() == (0,)
        wrong = conn.execute("SELECT count(*) FROM oss.dossier d JOIN oss.procedure p ON p.code = d.procedure_code"
                             " JOIN oss.agency a ON a.slug = d.agency WHERE a.kind <> p.unit_kind").fetchone()
        assert wrong == (0,)
        due = conn.execute("SELECT count(*) FROM oss.dossier d JOIN oss.procedure p ON p.code = d.procedure_code"
                           " WHERE d.due_on <> oss.add_working_days(d.received_on, p.deadline_days)").fetchone()
        assert due == (0,)  # the seed's calendar agrees with the intake's function
        late = conn.execute("SELECT count(*) FROM oss.dossier WHERE closed_on > due_on").fetchone()
        assert late is not None and late[0] > 0
    # an intake after the seed continues the agency's numbering
    with psycopg.connect(pg.admin) as conn:
        row = conn.execute("SELECT last FROM oss.dossier_counter WHERE agency = 'phuong-1' AND year = 2025").fetchone()
        assert row is not None
        conn_last = row[0]
    n = dossiers.intake(pg.app_db(), "phuong-1", "canbo1", "HT-01", "Trần Thị B", "0900000000", "after-seed",
                        dt.date(2025, 12, 30))
    assert n == f"phuong-1-2025-{conn_last + 1:06d}"
    assert seed.seed(pg.admin_db(), 10, 2025).dossiers == 10  # a second seed appends without clashing


def test_seed_refuses_nonsense(pg: Pg) -> None:
    with pytest.raises(OssError):
        seed.seed(pg.admin_db(), 0, 2025)


def test_cli_seed(pg: Pg, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"dsn": pg.app, "admin_dsn": pg.admin}))
    assert cli.main(["--config", str(cfg), "seed", "--dossiers", "300", "--year", "2024"]) == 0
    out = capsys.readouterr().out
    assert "seeded 300 dossiers" in out and "database size" in out

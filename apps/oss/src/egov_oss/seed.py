"""``egov-oss seed --dossiers N --year Y``: a realistic year of dossiers for the benchmark, generated in the server.

One transaction, as ``egov_oss_owner``, entirely in SQL (``generate_series``): dossiers spread uniformly over the
(agency, procedure) pairs the catalogue allows (a procedure is filed at agencies of its ``unit_kind``), received on
working days of year Y, numbered gap-free after each agency's counter (which is advanced), with due dates in
working days (from a numbered calendar of working days, not a function call per row), about 75 % resolved (some
late), 5 % rejected, 10 % in progress and 10 % just received, and their history rows (received, then in progress,
then the final status). 90,000 dossiers over the province's 136 agencies take about 5 s.
"""

from __future__ import annotations

from dataclasses import dataclass

from .db import Cursor, Database
from .errors import OssError

SEED_SQL = """
WITH pairs AS (
  SELECT row_number() OVER (ORDER BY a.slug, p.code) AS i, a.slug AS agency, p.code, p.deadline_days,
         (SELECT count(*) FROM oss.procedure_step s WHERE s.procedure_code = p.code) AS nsteps
  FROM oss.agency a JOIN oss.procedure p ON p.unit_kind = a.kind
), cal AS MATERIALIZED (  -- working days of Y and Y+1, numbered: due = the k + deadline'th
  SELECT row_number() OVER (ORDER BY day) AS k, day::date AS day
  FROM generate_series(make_date(%(year)s, 1, 1), make_date(%(year)s + 1, 12, 31), interval '1 day') AS day
  WHERE extract(isodow FROM day) < 6 AND day::date NOT IN (SELECT h.day FROM oss.holiday h)
), picks AS MATERIALIZED (
  SELECT g, 1 + floor(random() * (SELECT count(*) FROM pairs))::bigint AS i,
         1 + floor(random() * (SELECT count(*) FROM cal WHERE day < make_date(%(year)s + 1, 1, 1)))::bigint AS k,
         random() AS r, random() AS late
  FROM generate_series(1, %(n)s) AS g
), rows AS (
  SELECT k.g, p.agency, p.code, p.deadline_days, p.nsteps, k.r, k.late, c.day AS received_on,
         coalesce(due.day, oss.add_working_days(c.day, p.deadline_days)) AS due_on
  FROM picks k JOIN pairs p USING (i) JOIN cal c ON c.k = k.k LEFT JOIN cal due ON due.k = k.k + p.deadline_days
), numbered AS (
  SELECT r.*, coalesce(c.last, 0) + row_number() OVER (PARTITION BY r.agency ORDER BY r.received_on, r.g) AS seq,
         CASE WHEN r.r < 0.75 THEN 'resolved' WHEN r.r < 0.80 THEN 'rejected'
              WHEN r.r < 0.90 THEN 'in_progress' ELSE 'received' END AS status
  FROM rows r LEFT JOIN oss.dossier_counter c ON c.agency = r.agency AND c.year = %(year)s
), ins AS (
  INSERT INTO oss.dossier (number, agency, holder, holders, procedure_code, applicant_name, applicant_contact,
                           status, step, received_on, due_on, closed_on, idempotency_key, created_by)
  SELECT n.agency || '-' || %(year)s || '-' || lpad(n.seq::text, 6, '0'), n.agency, n.agency, ARRAY[n.agency],
         n.code, 'Công dân ' || n.g, '09' || lpad((n.g %% 100000000)::text, 8, '0'), n.status,
         CASE WHEN n.status = 'resolved' THEN n.nsteps - 1 ELSE 0 END, n.received_on,
         n.due_on,
         CASE WHEN n.status IN ('resolved', 'rejected')
              THEN n.received_on + floor(n.late * (n.deadline_days * 1.6 + 1))::int END,
         'seed-' || gen_random_uuid(), 'seed'
  FROM numbered n
  RETURNING id, agency, status, step, received_on, closed_on
), counters AS (
  INSERT INTO oss.dossier_counter (agency, year, last)
  SELECT n.agency, %(year)s, max(n.seq) FROM numbered n GROUP BY n.agency
  ON CONFLICT (agency, year) DO UPDATE SET last = excluded.last
  RETURNING agency
)
INSERT INTO oss.dossier_history (dossier_id, at, agency, official, from_status, to_status, step)
SELECT i.id, h.at, i.agency, 'seed', h.from_status, h.to_status, h.step
FROM ins i CROSS JOIN LATERAL (VALUES
    (i.received_on + time '08:00', NULL, 'received', 0),
    (i.received_on + time '14:00', 'received', 'in_progress', 0),
    (coalesce(i.closed_on, i.received_on) + time '16:00', 'in_progress', i.status, i.step)
  ) AS h(at, from_status, to_status, step)
WHERE h.to_status = 'received' OR (h.from_status = 'received' AND i.status <> 'received')
   OR (h.from_status = 'in_progress' AND i.status IN ('resolved', 'rejected'))
"""


@dataclass(frozen=True)
class SeedResult:
    """What a seed run made, and the database size after it."""

    dossiers: int
    history: int
    agencies: int
    db_size: str


def _counts(cur: Cursor) -> tuple[int, int]:
    cur.execute("SELECT (SELECT count(*) FROM oss.dossier) AS d, (SELECT count(*) FROM oss.dossier_history) AS h")
    row = cur.fetchone()
    assert row is not None
    return int(row["d"]), int(row["h"])


def seed(db: Database, n: int, year: int) -> SeedResult:
    """Generate ``n`` dossiers received in ``year``; see the module docstring."""
    if n <= 0 or not 2000 <= year <= 2100:
        raise OssError("seed: --dossiers must be positive and --year a plausible year")

    def work(cur: Cursor) -> SeedResult:
        cur.execute("SET LOCAL ROLE egov_oss_owner")
        cur.execute("SELECT count(*) AS n FROM oss.agency a JOIN oss.procedure p ON p.unit_kind = a.kind")
        if not cur.fetchone()["n"]:  # type: ignore[index]
            raise OssError("seed: the catalogue has no procedure an agency can file; load the catalogue first")
        before = _counts(cur)
        cur.execute(SEED_SQL, {"n": n, "year": year})
        after = _counts(cur)
        cur.execute("SELECT count(DISTINCT agency) AS a, pg_size_pretty(pg_database_size(current_database())) AS s"
                    " FROM oss.dossier WHERE received_on >= make_date(%s, 1, 1)"
                    " AND received_on < make_date(%s + 1, 1, 1)", (year, year))
        row = cur.fetchone()
        assert row is not None
        return SeedResult(dossiers=after[0] - before[0], history=after[1] - before[1], agencies=row["a"],
                          db_size=row["s"])

    return db.run(work)

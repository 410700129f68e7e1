"""``egov-oss migrate``: the versioned SQL migrations shipped in the package, applied exactly once.

Files ``migrations/NNNN_name.sql`` are applied in order, each in its own transaction together with its row in
``public.egov_oss_schema_migrations``. The whole run holds a session-level ``pg_advisory_lock``, so two app nodes
running ``migrate`` at the same time (both start at boot) serialise: the second finds everything applied and
applies nothing. Rerunning is a no-op. The connecting role must be able to create roles the first time (a
superuser, or a role with CREATEROLE that owns the database); see ``0001_roles_schema.sql``.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from .errors import MigrationError

LOCK_KEY = 0x6567_6F76_6F73_73  # "egovoss"
TABLE = "public.egov_oss_schema_migrations"


@dataclass(frozen=True)
class Migration:
    """One SQL file: its version (the NNNN prefix), name and text."""

    version: int
    name: str
    sql: str


def available() -> list[Migration]:
    """The migrations shipped in the package, in version order."""
    found = []
    for entry in resources.files("egov_oss").joinpath("migrations").iterdir():
        if entry.name.endswith(".sql"):
            prefix, _, rest = entry.name.partition("_")
            found.append(Migration(int(prefix), rest.removesuffix(".sql"), entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    if len({m.version for m in found}) != len(found):
        raise MigrationError("two migration files share a version number")
    return found


def migrate(conninfo: str) -> list[Migration]:
    """Apply the missing migrations; return those this run applied (empty when up to date)."""
    if "connect_timeout" not in conninfo_to_dict(conninfo):
        conninfo = make_conninfo(conninfo, connect_timeout=10)
    try:
        conn = psycopg.connect(conninfo, autocommit=True)
    except psycopg.Error as e:
        raise MigrationError(f"cannot connect to the database: {e}") from e
    applied: list[Migration] = []
    with conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        try:
            conn.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (version integer PRIMARY KEY, name text NOT NULL,"
                         " applied_at timestamptz NOT NULL DEFAULT now())")
            done = {r[0] for r in conn.execute(f"SELECT version FROM {TABLE}")}
            for m in available():
                if m.version in done:
                    continue
                try:
                    with conn.transaction():
                        conn.execute(m.sql.encode())
                        conn.execute("RESET ROLE")  # a migration may SET LOCAL ROLE egov_oss_owner
                        conn.execute(f"INSERT INTO {TABLE} (version, name) VALUES (%s, %s)", (m.version, m.name))
                except psycopg.Error as e:
                    raise MigrationError(f"migration {m.version:04d}_{m.name} failed (not applied): {e}") from e
                applied.append(m)
        finally:
            if not conn.closed:
                conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    return applied

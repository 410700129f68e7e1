"""Migrations: applied once, a rerun applies nothing, two concurrent runs apply each once, failures are clear."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import psycopg
import pytest
from egov_oss import cli, migrate
from egov_oss.errors import MigrationError

from conftest import Pg


def _versions(pg: Pg) -> list[int]:
    with psycopg.connect(pg.admin) as conn:
        return [r[0] for r in conn.execute(f"SELECT version FROM {migrate.TABLE} ORDER BY version")]


def test_first_run_applies_all_and_second_nothing(empty_pg: Pg) -> None:
    shipped = [m.version for m in migrate.available()]
    assert shipped == sorted(shipped) and len(shipped) >= 5
    assert [m.version for m in migrate.migrate(empty_pg.admin)] == shipped
    assert migrate.migrate(empty_pg.admin) == []
    assert _versions(empty_pg) == shipped
    with psycopg.connect(empty_pg.admin) as conn:
        owner = conn.execute("SELECT tableowner FROM pg_tables WHERE schemaname = 'oss' AND tablename = 'dossier'")
        assert owner.fetchone() == ("egov_oss_owner",)
        forced = conn.execute("SELECT relforcerowsecurity FROM pg_class WHERE oid = 'oss.dossier'::regclass")
        assert forced.fetchone() == (True,)


def test_two_concurrent_runs_apply_each_migration_once(empty_pg: Pg) -> None:
    barrier = threading.Barrier(2)
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            results.append([m.version for m in migrate.migrate(empty_pg.admin)])
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    shipped = [m.version for m in migrate.available()]
    assert sorted(results[0] + results[1]) == shipped  # each applied by exactly one of the two
    assert _versions(empty_pg) == shipped


def test_unreachable_database_is_a_clear_error() -> None:
    with pytest.raises(MigrationError, match="cannot connect"):
        migrate.migrate("host=127.0.0.1 port=1 dbname=x connect_timeout=2")


def test_cli_migrate_prints_and_fails_non_zero(empty_pg: Pg, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"dsn": empty_pg.app, "admin_dsn": empty_pg.admin}))
    assert cli.main(["--config", str(good), "migrate"]) == 0
    assert "applied 0001_roles_schema" in capsys.readouterr().out
    assert cli.main(["--config", str(good), "migrate"]) == 0
    assert "nothing to apply" in capsys.readouterr().out
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"dsn": "host=127.0.0.1 port=1 connect_timeout=2"}))
    assert cli.main(["--config", str(bad), "migrate"]) == 2
    assert "error: cannot connect" in capsys.readouterr().err
    assert cli.main(["--config", str(tmp_path / "missing.json"), "migrate"]) == 2
    assert "cannot read config" in capsys.readouterr().err


def test_migrate_as_the_platform_owner_role(template_pg: Pg) -> None:
    """The platform (roles/oss_db) pre-creates both roles (NOCREATEROLE) and a database owned by
    egov_oss_owner, then runs migrate as that owner: no superuser needed."""
    from conftest import _admin, _sql, make_conninfo, make_pg

    _sql("ALTER ROLE egov_oss_owner LOGIN NOSUPERUSER NOCREATEROLE PASSWORD 'owner-test-password'")
    pg = make_pg("egov_oss_owned")
    try:
        _sql('ALTER DATABASE "egov_oss_owned" OWNER TO egov_oss_owner')
        owner = make_conninfo(_admin("egov_oss_owned"), user="egov_oss_owner", password="owner-test-password")
        assert len(migrate.migrate(owner)) == len(migrate.available())
        assert migrate.migrate(owner) == []
        with psycopg.connect(pg.app) as conn:
            conn.execute("SELECT set_config('egov.agency', 'x', true)")
            assert conn.execute("SELECT count(*) FROM oss.dossier").fetchone() == (0,)
    finally:
        _sql('DROP DATABASE IF EXISTS "egov_oss_owned" WITH (FORCE)')
        _sql("ALTER ROLE egov_oss_owner NOLOGIN")

"""Fixtures: a real PostgreSQL 15 from ``pg_virtualenv`` (``run-tests.sh``), one migrated template database with
the sample catalogue, and a fresh copy of it per test (``CREATE DATABASE ... TEMPLATE``, ~0.1 s).

Tests needing the database skip with a reason when ``PGHOST`` is unset; the OIDC unit tests run without it.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from egov_oss import catalogue, migrate
from egov_oss.db import Database

APP_PASSWORD = "app-test-password"
TEMPLATE = "egov_oss_tpl"
_names = itertools.count(1)

CATALOGUE: dict[str, Any] = {
    "agencies": [
        {"slug": "so-tnmt", "name": "Sở Tài nguyên và Môi trường", "kind": "department", "parent": None},
        {"slug": "so-tp", "name": "Sở Tư pháp", "kind": "department", "parent": None},
        {"slug": "huyen-ke-sach", "name": "UBND huyện Kế Sách", "kind": "district", "parent": None},
        {"slug": "tp-soc-trang", "name": "UBND thành phố Sóc Trăng", "kind": "district", "parent": None},
        {"slug": "xa-an-lac-thon", "name": "UBND xã An Lạc Thôn", "kind": "commune", "parent": "huyen-ke-sach"},
        {"slug": "xa-an-my", "name": "UBND xã An Mỹ", "kind": "commune", "parent": "huyen-ke-sach"},
        {"slug": "phuong-1", "name": "UBND phường 1", "kind": "commune", "parent": "tp-soc-trang"},
    ],
    "procedures": [
        {"code": "HT-01", "name": "Đăng ký khai sinh", "unit_kind": "commune", "deadline_days": 3,
         "steps": [{"name": "Tiếp nhận", "level": "commune", "days": 1},
                   {"name": "Giải quyết", "level": "commune", "days": 2}]},
        {"code": "DD-01", "name": "Cấp giấy chứng nhận quyền sử dụng đất", "unit_kind": "commune",
         "deadline_days": 30,
         "steps": [{"name": "Xác nhận của xã", "level": "commune", "days": 5},
                   {"name": "Thẩm định của huyện", "level": "district", "days": 10},
                   {"name": "Cấp giấy", "level": "department", "department": "so-tnmt", "days": 15}]},
        {"code": "KD-01", "name": "Đăng ký hộ kinh doanh", "unit_kind": "district", "deadline_days": 3,
         "steps": [{"name": "Giải quyết", "level": "district", "days": 3}]},
        {"code": "LL-01", "name": "Cấp phiếu lý lịch tư pháp", "unit_kind": "department", "deadline_days": 10,
         "steps": [{"name": "Giải quyết", "level": "department", "department": "so-tp", "days": 10}]},
    ],
    "holidays": ["2026-09-02", "2026-09-01"],
}


@dataclass(frozen=True)
class Pg:
    """A test database: its name and the conninfo strings of the admin and of the app role."""

    name: str
    admin: str
    app: str

    def admin_db(self) -> Database:
        """A :class:`Database` as the admin (superuser of the throw-away cluster)."""
        return Database(self.admin, pool_size=0, statement_timeout_ms=0)

    def app_db(self, **kwargs: Any) -> Database:
        """A :class:`Database` as ``egov_oss_app`` (RLS applies)."""
        return Database(self.app, **kwargs)


def _base() -> str:
    if not os.environ.get("PGHOST"):
        pytest.skip("PGHOST is unset: run apps/oss/run-tests.sh (pg_virtualenv provides a PostgreSQL 15)")
    return make_conninfo("", connect_timeout=5)


def _admin(dbname: str) -> str:
    return make_conninfo(_base(), dbname=dbname)


def _app(dbname: str) -> str:
    return make_conninfo(_base(), dbname=dbname, user="egov_oss_app", password=APP_PASSWORD)


def _sql(statement: str) -> None:
    with psycopg.connect(_admin(os.environ.get("PGDATABASE", "postgres")), autocommit=True) as conn:
        conn.execute(statement)


def make_pg(name: str, template: str = "template0") -> Pg:
    """Create database ``name`` from ``template``."""
    _sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return Pg(name=name, admin=_admin(name), app=_app(name))


@pytest.fixture(scope="session")
def template_pg() -> Iterator[Pg]:
    """The migrated template with the sample catalogue; the app role gets a password."""
    pg = make_pg(TEMPLATE)
    migrate.migrate(pg.admin)
    _sql(f"ALTER ROLE egov_oss_app PASSWORD '{APP_PASSWORD}'")
    catalogue.load(pg.admin_db(), CATALOGUE)
    yield pg
    _sql(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')


@pytest.fixture()
def pg(template_pg: Pg) -> Iterator[Pg]:
    """A fresh copy of the template for one test."""
    db = make_pg(f"egov_oss_t{os.getpid()}_{next(_names)}", TEMPLATE)
    yield db
    _sql(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)')


@pytest.fixture()
def empty_pg() -> Iterator[Pg]:
    """An empty database (not migrated)."""
    db = make_pg(f"egov_oss_e{os.getpid()}_{next(_names)}")
    yield db
    _sql(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)')


@pytest.fixture()
def catalogue_file(tmp_path: Path) -> Path:
    """The sample catalogue written to a file."""
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps(CATALOGUE, ensure_ascii=False), encoding="utf-8")
    return path

"""Catalogue load: idempotent upsert with counts, updates detected, invalid files refused."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from egov_oss import catalogue, cli, migrate
from egov_oss.errors import CatalogueError

from conftest import CATALOGUE, Pg


def test_load_is_idempotent_and_detects_changes(empty_pg: Pg) -> None:
    migrate.migrate(empty_pg.admin)
    db = empty_pg.admin_db()
    first = catalogue.load(db, CATALOGUE)
    assert first.inserted == {"agency": 7, "procedure": 4, "holiday": 2}
    assert first.updated == {}
    second = catalogue.load(db, CATALOGUE)
    assert second.inserted == {} and second.updated == {}
    assert second.unchanged == {"agency": 7, "procedure": 4, "holiday": 2}
    changed = copy.deepcopy(CATALOGUE)
    changed["agencies"][0]["name"] = "Sở TN&MT"
    changed["procedures"][1]["steps"][1]["days"] = 12
    third = catalogue.load(db, changed)
    assert third.updated == {"agency": 1, "procedure": 1}
    assert third.unchanged == {"agency": 6, "procedure": 3, "holiday": 2}


@pytest.mark.parametrize(("path", "value", "message"), [
    (("agencies", 4, "parent"), "so-tp", "is not a district"),
    (("agencies", 0, "kind"), "province", "unknown kind"),
    (("procedures", 1, "steps", 2, "department"), "huyen-ke-sach", "is not a department"),
    (("procedures", 0, "deadline_days"), -1, "deadline_days"),
    (("holidays", 0), "02/09/2026", "YYYY-MM-DD"),
])
def test_invalid_catalogue_is_refused(path: tuple[object, ...], value: object, message: str) -> None:
    bad = copy.deepcopy(CATALOGUE)
    node = bad
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(CatalogueError, match=message):
        catalogue.validate(bad)


def test_cli_load_catalogue_reports_counts(empty_pg: Pg, catalogue_file: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    migrate.migrate(empty_pg.admin)
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"dsn": empty_pg.app, "admin_dsn": empty_pg.admin, "catalogue": str(catalogue_file)}))
    assert cli.main(["--config", str(cfg), "load-catalogue"]) == 0
    assert "agency: 7 inserted, 0 updated, 0 unchanged" in capsys.readouterr().out
    assert cli.main(["--config", str(cfg), "load-catalogue", str(catalogue_file)]) == 0
    assert "procedure: 0 inserted, 0 updated, 4 unchanged" in capsys.readouterr().out
    (tmp_path / "broken.json").write_text("{")
    assert cli.main(["--config", str(cfg), "load-catalogue", str(tmp_path / "broken.json")]) == 2
    assert "not valid JSON" in capsys.readouterr().err

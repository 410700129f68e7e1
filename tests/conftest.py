"""Shared fixtures: a writable copy of the model for bad-input and generalisation tests."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
MODEL_DIR = REPO / "model"


def model_problems(model_dir: Path) -> list[str]:
    """Every problem loading model_dir/province.yml reports (the load must fail)."""
    from egov.model import ModelError, load_province

    with pytest.raises(ModelError) as info:
        load_province(model_dir / "province.yml")
    return [str(issue) for issue in info.value.issues]


def model_problem(model_dir: Path, *needles: str) -> str:
    """The first problem mentioning every needle (fails, listing them all, when none does)."""
    problems = model_problems(model_dir)
    found = [p for p in problems if all(n in p for n in needles)]
    assert found, f"no problem mentions {needles}: {problems}"
    return found[0]


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    """A copy of model/ (province.yml, allocations.yml, admin-units/) in a temporary directory."""
    target = tmp_path / "model"
    shutil.copytree(MODEL_DIR, target)
    return target


@pytest.fixture
def edit_yaml() -> Callable[[Path, Callable[[Any], None]], None]:
    def edit(path: Path, change: Callable[[Any], None]) -> None:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(data)
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")

    return edit


@pytest.fixture
def edit_gso() -> Callable[[Path, Callable[[Any], None]], None]:
    def edit(model_dir: Path, change: Callable[[Any], None]) -> None:
        path = next((model_dir / "admin-units").glob("*.json"))
        data = json.loads(path.read_text(encoding="utf-8"))
        change(data)
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")

    return edit

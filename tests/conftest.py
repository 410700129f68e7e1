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

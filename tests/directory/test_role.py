"""Static checks of roles/directory (no lab): argument_specs mirror the defaults, the sync script compiles."""

from __future__ import annotations

import py_compile
from pathlib import Path

from tests.conftest import REPO

ROLE = REPO / "roles" / "directory"


def test_sync_script_compiles(tmp_path: Path) -> None:
    py_compile.compile(str(ROLE / "files" / "egov-ldap-sync"), cfile=str(tmp_path / "sync.pyc"), doraise=True)

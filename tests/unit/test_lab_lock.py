"""`egov lab up/down` serialise on a lock file: a second run waits (and says so) instead of racing."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from egov.lab.manager import lab_lock

HOLDER = """
import sys, time
from pathlib import Path
from egov.lab.manager import lab_lock
with lab_lock(Path(sys.argv[1]), log=lambda m: None):
    print("held", flush=True)
    time.sleep(1.5)
"""


def test_second_holder_waits_and_names_the_first(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    messages: list[str] = []
    started = time.monotonic()
    with lab_lock(tmp_path, log=messages.append):
        waited = time.monotonic() - started
    holder.wait(timeout=10)
    assert waited > 0.5, "the lock was not held by the first process"
    assert len(messages) == 1 and f"pid {holder.pid}" in messages[0]


def test_free_lock_is_taken_silently(tmp_path: Path) -> None:
    messages: list[str] = []
    with lab_lock(tmp_path, log=messages.append):
        assert (tmp_path / ".lock").read_text().strip().isdigit()
    assert messages == []

"""Per-host progress of a running ansible-playbook, from its default-callback output as it arrives.

`egov converge` (and so `egov run`, which calls it) feeds every output line to `Progress.feed` and
prints `Progress.status_line()` to stderr every few seconds, even when Ansible prints nothing: a host
stuck on a task shows up while it happens, as the slowest host with its task and how long it has
been on it. At the end `Progress.failures` names, per failed host, the task and the reason.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


def strip_colours(text: str) -> str:
    return ANSI_ESCAPE.sub("", text)


TASK_HEADER = re.compile(r"^(?:TASK|RUNNING HANDLER) \[(?P<task>.*)\]")
PLAY_HEADER = re.compile(r"^PLAY \[(?P<play>.*)\]")
RESULT = re.compile(r"^(?P<status>ok|changed|skipping|fatal|failed|included): \[(?P<host>[^\]\s]+)(?: -> [^\]]+)?\]"
                    r"(?P<rest>.*)$")
UNREACHABLE = re.compile(r"UNREACHABLE!")
RECAP_LINE = re.compile(r"^(?P<host>\S+)\s+:\s+ok=\d+\s+changed=\d+\s+unreachable=(?P<u>\d+)\s+failed=(?P<f>\d+)")
MSG_INLINE = re.compile(r'"msg":\s*"(?P<msg>(?:[^"\\]|\\.)*)"')
MSG_YAML = re.compile(r"^\s+msg:\s*(?P<msg>.*)$")


@dataclass
class Failure:
    task: str
    reason: str = ""

    def __str__(self) -> str:
        return f"{self.task}: {self.reason}" if self.reason else self.task


@dataclass
class Progress:
    """State of one ansible-playbook run, built from its output lines (linear / mitogen_linear strategy)."""

    clock: Callable[[], float] = time.monotonic
    started: float = field(default=0.0)
    task: str = ""
    task_started: float = 0.0
    hosts: set[str] = field(default_factory=set)          # every host seen so far
    reported: set[str] = field(default_factory=set)       # hosts with a result for the current task
    failed: dict[str, Failure] = field(default_factory=dict)
    done: set[str] = field(default_factory=set)           # hosts in the PLAY RECAP
    _last_failed: str | None = None
    _in_recap: bool = False

    def __post_init__(self) -> None:
        self.started = self.task_started = self.clock()

    def feed(self, raw: str) -> None:
        line = strip_colours(raw).rstrip("\n")
        if line.startswith("PLAY RECAP"):
            self._in_recap, self._last_failed = True, None
            return
        if self._in_recap:
            if match := RECAP_LINE.match(line.strip()):
                host = match["host"]
                self.hosts.add(host)
                if int(match["u"]) or int(match["f"]):
                    self.failed.setdefault(host, Failure(self.task or "?", "failed (from the recap)"))
                else:
                    self.done.add(host)
            return
        if match := TASK_HEADER.match(line):
            self.task, self.task_started, self.reported = match["task"], self.clock(), set()
            self._last_failed = None
            return
        if PLAY_HEADER.match(line):
            self._last_failed = None
            return
        if match := RESULT.match(line):
            host, status, rest = match["host"], match["status"], match["rest"]
            self.hosts.add(host)
            self.reported.add(host)
            if status in ("fatal", "failed"):
                reason = "unreachable" if UNREACHABLE.search(rest) else ""
                if m := MSG_INLINE.search(rest):
                    reason = m["msg"].encode().decode("unicode_escape", errors="replace")
                self.failed[host] = Failure(self.task, reason)
                self._last_failed = host
            else:
                # a host that gets later tasks was rescued or its error ignored: it is running again
                self.failed.pop(host, None)
                self._last_failed = None
            return
        if self._last_failed is not None:
            if line.strip() == "...ignoring":
                self.failed.pop(self._last_failed, None)
                self._last_failed = None
            elif (m := MSG_YAML.match(line)) and self.failed[self._last_failed].reason in ("", "unreachable"):
                prefix = "unreachable: " if self.failed[self._last_failed].reason else ""
                self.failed[self._last_failed].reason = prefix + m["msg"].strip().strip("'\"")

    def failures(self) -> dict[str, Failure]:
        return dict(self.failed)

    @property
    def running(self) -> set[str]:
        return self.hosts - self.done - set(self.failed)

    def slowest(self) -> tuple[str, str, float] | None:
        """(host, task, seconds on it) of a host still waiting for the current task, None if none is."""
        waiting = sorted(self.running - self.reported)
        if not waiting or not self.task:
            return None
        return waiting[0], self.task, self.clock() - self.task_started

    def status_line(self, label: str = "") -> str:
        now = self.clock()
        waiting = self.running - self.reported
        parts = [f"[{label} {now - self.started:7.0f}s]" if label else f"[{now - self.started:.0f}s]",
                 f"hosts: {len(self.done)} done, {len(self.failed)} failed, {len(self.running)} running"
                 + (f" ({len(waiting)} on the current task)" if self.task and waiting else "")]
        if slow := self.slowest():
            host, task, seconds = slow
            parts.append(f"slowest: {host} on '{task}' for {seconds:.0f}s")
        if self.failed:
            parts.append("failed: " + ", ".join(sorted(self.failed)[:5]) + (" …" if len(self.failed) > 5 else ""))
        return " | ".join(parts)

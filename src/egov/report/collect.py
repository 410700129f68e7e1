"""The evidence of the last run, read from the report directory (reports/ by default).

Every source is optional: the site shows "no evidence in this run" for whatever is absent. A
present but unreadable file does not stop the report; it becomes a problem listed on the site,
because an auditor must see that evidence was there and could not be read.

- ``run-latest.json``: the main job's record (src/egov/job.py): {"started", "steps": [...]}.
- ``junit/*.xml``: pytest JUnit XML. The baseline suite's test ids are ``<host>-<control id>``
  (tests/baseline/conftest.py), e.g. ``test_control[dns-01-SSH-001]``.
- ``network/<platform>/<device>.cfg``: `egov network render --out reports/network` output,
  digested with SHA-256; ``network/*.json``: `egov network <operation> --json` reports.
"""

from __future__ import annotations

import hashlib
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BASELINE_ID = re.compile(r"\[(?P<host>[^\[\]]+)-(?P<control>[A-Z]+-\d+)\]$")
TEST_STATES = ("passed", "failed", "error", "skipped")


@dataclass(frozen=True)
class StepRecord:
    """One step of the main job as run-latest.json records it."""

    name: str
    status: str
    seconds: float
    detail: str


@dataclass(frozen=True)
class RunRecord:
    started: str
    steps: tuple[StepRecord, ...]
    source: Path


@dataclass(frozen=True)
class TestCase:
    """One JUnit test case; host and control are set for the baseline suite's cases."""

    source: str               # the XML file's name
    classname: str
    name: str
    status: str               # passed | failed | error | skipped
    message: str
    seconds: float
    host: str | None = None
    control: str | None = None

    @property
    def module(self) -> str:
        """The test module as a path prefix: tests.dns.test_dns -> tests/dns/test_dns."""
        return self.classname.replace(".", "/")


@dataclass(frozen=True)
class DeviceConfig:
    """A rendered device configuration: its digest is what the site shows (and compares)."""

    device: str
    platform: str
    path: Path
    sha256: str
    lines: int


@dataclass(frozen=True)
class DeviceRun:
    """One device's result in an `egov network <operation> --json` report."""

    operation: str
    device: str
    status: str
    message: str
    source: str


@dataclass
class Evidence:
    """Everything read from the report directory; empty parts mean "no evidence in this run"."""

    root: Path
    run: RunRecord | None = None
    tests: list[TestCase] = field(default_factory=list)
    junit_files: list[str] = field(default_factory=list)
    configs: dict[str, DeviceConfig] = field(default_factory=dict)
    device_runs: dict[str, list[DeviceRun]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def baseline(self) -> dict[str, dict[str, TestCase]]:
        """host -> control id -> its test case (the last one read wins)."""
        out: dict[str, dict[str, TestCase]] = {}
        for case in self.tests:
            if case.host and case.control:
                out.setdefault(case.host, {})[case.control] = case
        return out

    def tests_under(self, prefix: str) -> list[TestCase]:
        """The cases of test modules under a path such as tests/dns or tests/dns/test_dns.py."""
        stem = prefix.removesuffix(".py").rstrip("/")
        return [c for c in self.tests if c.module == stem or c.module.startswith(stem + "/")]


def read_run(path: Path) -> RunRecord:
    """run-latest.json as the main job writes it; ValueError when its shape is not that."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("steps"), list):
        raise ValueError("not a main-job record: no `steps` list")
    steps = []
    for index, step in enumerate(data["steps"]):
        if not isinstance(step, dict) or "name" not in step or "status" not in step:
            raise ValueError(f"step {index} has no name or status")
        steps.append(StepRecord(str(step["name"]), str(step["status"]), float(step.get("seconds") or 0.0),
                                str(step.get("detail", ""))))
    return RunRecord(started=str(data.get("started", "")), steps=tuple(steps), source=path)


def parse_baseline_name(classname: str, name: str, control_ids: Iterable[str]) -> tuple[str, str] | None:
    """(host, control) of a baseline test case, None for any other test.

    The suite names its cases ``test_control[<host>-<control id>]``; a host name may hold dashes,
    a control id is the catalogue's (so ``fw-my-tu-SSH-001`` is host fw-my-tu, control SSH-001).
    """
    if not classname.startswith("tests.baseline."):
        return None
    match = BASELINE_ID.search(name)
    if not match or match.group("control") not in set(control_ids):
        return None
    return match.group("host"), match.group("control")


def _case_status(element: ET.Element) -> tuple[str, str]:
    for tag, status in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
        child = element.find(tag)
        if child is not None:
            return status, (child.get("message") or child.text or "").strip()
    return "passed", ""


def read_junit(path: Path, control_ids: Iterable[str]) -> list[TestCase]:
    """Every test case of a pytest JUnit XML file; ValueError (with ParseError) when it is not XML."""
    ids = set(control_ids)
    root = ET.parse(path).getroot()
    if root.tag not in ("testsuites", "testsuite"):
        raise ValueError(f"root element is <{root.tag}>, not <testsuites> or <testsuite>")
    cases = []
    for element in root.iter("testcase"):
        classname, name = element.get("classname", ""), element.get("name", "")
        status, message = _case_status(element)
        parsed = parse_baseline_name(classname, name, ids)
        cases.append(TestCase(source=path.name, classname=classname, name=name, status=status, message=message,
                              seconds=float(element.get("time") or 0.0),
                              host=parsed[0] if parsed else None, control=parsed[1] if parsed else None))
    return cases


def digest(path: Path) -> DeviceConfig:
    data = path.read_bytes()
    return DeviceConfig(device=path.stem, platform=path.parent.name, path=path,
                        sha256=hashlib.sha256(data).hexdigest(), lines=len(data.splitlines()))


def _device_runs(path: Path) -> list[DeviceRun]:
    data: Any = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "operation" not in data or not isinstance(data.get("results"), list):
        raise ValueError("not an `egov network --json` report (no operation/results)")
    return [DeviceRun(operation=str(data["operation"]), device=str(r.get("device", "")),
                      status=str(r.get("status", "")), message=str(r.get("message", "")), source=path.name)
            for r in data["results"] if isinstance(r, dict)]


def collect(root: Path, control_ids: Iterable[str]) -> Evidence:
    """Read every evidence source under root; absent sources stay empty, unreadable ones are problems."""
    ids = list(control_ids)
    evidence = Evidence(root=root)
    run_file = root / "run-latest.json"
    if run_file.is_file():
        try:
            evidence.run = read_run(run_file)
        except (ValueError, OSError) as exc:
            evidence.problems.append(f"{run_file.name}: {exc}")
    for xml in sorted((root / "junit").glob("*.xml")):
        try:
            evidence.tests += read_junit(xml, ids)
            evidence.junit_files.append(xml.name)
        except (ET.ParseError, ValueError, OSError) as exc:
            evidence.problems.append(f"junit/{xml.name}: {exc}")
    network = root / "network"
    for cfg in sorted(network.glob("*/*.cfg")):
        config = digest(cfg)
        evidence.configs[config.device] = config
    for report in sorted(network.glob("*.json")):
        try:
            for device_run in _device_runs(report):
                evidence.device_runs.setdefault(device_run.device, []).append(device_run)
        except (ValueError, OSError) as exc:
            evidence.problems.append(f"network/{report.name}: {exc}")
    return evidence

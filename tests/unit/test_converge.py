"""`egov converge` parses Ansible's PLAY RECAP into per-host counts and flags failed/changed hosts."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from egov.converge import (
    RunResult,
    check_problems,
    converge,
    parse_changed_tasks,
    parse_recap,
    strategy_env,
    summary_lines,
)

RECAP = """
PLAY RECAP *********************************************************************
dns-01                     : ok=87   changed=0    unreachable=0    failed=0    skipped=9    rescued=0    ignored=0
mail-01                    : ok=80   changed=2    unreachable=0    failed=0    skipped=9    rescued=0    ignored=0
fw-an-hiep                 : ok=12   changed=0    unreachable=1    failed=0    skipped=0    rescued=0    ignored=0
"""


def test_recap_counts_per_host() -> None:
    hosts = parse_recap(RECAP)
    assert set(hosts) == {"dns-01", "mail-01", "fw-an-hiep"}
    assert hosts["mail-01"]["changed"] == 2 and hosts["dns-01"]["ok"] == 87


def test_failed_and_changed_hosts_are_named() -> None:
    result = RunResult("second", 10.0, 4, "log", parse_recap(RECAP))
    assert result.failed_hosts == ["fw-an-hiep"]
    assert result.changed_hosts == {"mail-01": 2}
    text = "\n".join(summary_lines(result))
    assert "1 failed/unreachable" in text and "mail-01=2" in text


def test_coloured_output_is_parsed_like_plain() -> None:
    """molecule sets ANSIBLE_FORCE_COLOR=1; a playbook run inside a scenario inherits it."""
    coloured = (
        "PLAY RECAP *********************************************************************\n"
        "\x1b[0;33mpki-01\x1b[0m                     : \x1b[0;32mok=72  \x1b[0m \x1b[0;33mchanged=6   \x1b[0m "
        "unreachable=0    failed=0    \x1b[0;36mskipped=3   \x1b[0m rescued=0    ignored=0   \n"
        "TASK [lab_ca : Issue] ***\n\x1b[0;33mchanged: [pki-01]\x1b[0m\n"
    )
    assert parse_recap(coloured) == {"pki-01": {"ok": 72, "changed": 6, "unreachable": 0, "failed": 0,
                                                "skipped": 3, "rescued": 0, "ignored": 0}}
    assert parse_changed_tasks(coloured) == {"pki-01": ["lab_ca : Issue"]}


def test_no_recap_means_no_hosts() -> None:
    assert parse_recap("ERROR! the playbook could not be found") == {}


LOG = """
TASK [os_hardening : Log files | log files are not world-readable] *************
Thursday 26 November 2026  01:30:23 +0000 (0:00:00.113)       0:00:48.916 *****
changed: [mail-01]
ok: [mail-02]

TASK [mail : Rspamd | local configuration] *************************************
ok: [mail-01] => (item=options.inc)
changed: [mail-02] => (item=options.inc)
changed: [mail-02] => (item=actions.conf)

RUNNING HANDLER [mail : Restart rspamd] ****************************************
changed: [mail-02]

TASK [lab_ca : Issue | certificate of the service] *****************************
changed: [mail-01 -> pki-01]
"""


def test_changed_tasks_are_named_per_host() -> None:
    tasks = parse_changed_tasks(LOG)
    assert tasks["mail-01"] == ["os_hardening : Log files | log files are not world-readable",
                                "lab_ca : Issue | certificate of the service"]
    assert tasks["mail-02"] == ["mail : Rspamd | local configuration", "mail : Restart rspamd"]


def test_strategy_environment() -> None:
    assert strategy_env("linear") == {"ANSIBLE_STRATEGY": "linear"}
    mitogen = strategy_env("mitogen")          # mitogen is in requirements/base.txt
    assert mitogen["ANSIBLE_STRATEGY"] == "mitogen_linear"
    assert (Path(mitogen["ANSIBLE_STRATEGY_PLUGINS"]) / "mitogen_linear.py").is_file()
    with pytest.raises(click.BadParameter, match="expected one of"):
        strategy_env("fastest")


# --check: one run with --check --diff; clean only when every host has changed=0 failed=0 unreachable=0

CHECK_LOG = """
TASK [base : Apt | update the package cache through the mirror] ****************
--- before
+++ after
changed: [mail-01]
ok: [dns-01]

TASK [mail : Postfix | main.cf] ************************************************
ok: [mail-01]
ok: [dns-01]
"""


def check_result(recap: str, log: str = "", code: int = 0, failures: dict[str, str] | None = None) -> RunResult:
    return RunResult("check", 3.0, code, "log", parse_recap(recap), parse_changed_tasks(log), failures or {})


CLEAN_RECAP = """
PLAY RECAP *********************************************************************
dns-01                     : ok=87   changed=0    unreachable=0    failed=0    skipped=9    rescued=0    ignored=0
mail-01                    : ok=80   changed=0    unreachable=0    failed=0    skipped=9    rescued=0    ignored=0
"""


def test_a_clean_check_run_has_no_problem() -> None:
    assert check_problems(check_result(CLEAN_RECAP)) == []


def test_a_check_run_that_would_change_names_the_hosts_and_tasks() -> None:
    recap = CLEAN_RECAP.replace("ok=80   changed=0", "ok=80   changed=1")
    problems = check_problems(check_result(recap, CHECK_LOG))
    assert problems[0] == "check run: 1 task(s) would change on 1 host(s): mail-01"
    assert problems[1] == "  mail-01: base : Apt | update the package cache through the mirror"
    assert not any("dns-01" in p for p in problems)


def test_a_check_run_with_a_failed_or_unreachable_host_fails_naming_it() -> None:
    problems = check_problems(check_result(RECAP, code=4,
                                           failures={"fw-an-hiep": "Gathering Facts: Connection timed out"}))
    assert "check run: 1 host(s) failed or unreachable: fw-an-hiep" in problems
    assert "  fw-an-hiep: Gathering Facts: Connection timed out" in problems
    # mail-01 changed=2 in RECAP: it is named too, even though no `changed:` line was captured
    assert "check run: 2 task(s) would change on 1 host(s): mail-01" in problems


def test_a_check_run_without_a_recap_or_with_a_bad_exit_is_not_clean() -> None:
    assert check_problems(check_result("ERROR! the playbook could not be found", code=1))[0].startswith(
        "check run: no PLAY RECAP")
    assert check_problems(check_result(CLEAN_RECAP, code=2)) == ["check run failed (exit 2)"]


FAKE_PLAYBOOK = """#!/bin/sh
echo "$@" > "{argv}"
cat <<'OUT'
{out}
OUT
exit {code}
"""


@pytest.mark.parametrize(("changed", "code"), [(0, 0), (1, 0)])
def test_converge_check_passes_check_diff_and_judges_the_recap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               changed: int, code: int) -> None:
    recap = CLEAN_RECAP.replace("ok=80   changed=0", f"ok=80   changed={changed}")
    fake = tmp_path / "bin" / "ansible-playbook"
    fake.parent.mkdir()
    fake.write_text(FAKE_PLAYBOOK.format(argv=tmp_path / "argv", out=CHECK_LOG + recap, code=code))
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:{os.environ['PATH']}")
    monkeypatch.setenv("EGOV_PROGRESS_INTERVAL", "60")
    result = CliRunner().invoke(converge, ["--playbook", "playbooks/baseline.yml", "--limit", "dns-01,mail-01",
                                           "--strategy", "linear", "--report-dir", str(tmp_path / "r"), "--check",
                                           "--tags", "apt"])
    argv = (tmp_path / "argv").read_text().split()
    after_limit = argv.index("--limit") + 2
    assert argv[after_limit:after_limit + 2] == ["--check", "--diff"] and argv[-2:] == ["--tags", "apt"], argv
    report = json.loads((tmp_path / "r" / "converge-latest.json").read_text())
    assert report["check"] is True and [r["label"] for r in report["runs"]] == ["check"]
    if changed:
        assert result.exit_code == 1, result.output
        assert "would change on 1 host(s): mail-01" in result.output
        assert "mail-01: base : Apt | update the package cache through the mirror" in result.output
    else:
        assert result.exit_code == 0, result.output
        assert report["problems"] == []


def test_converge_check_refuses_twice() -> None:
    result = CliRunner().invoke(converge, ["--limit", "dns-01", "--check", "--twice"])
    assert result.exit_code == 2 and "drop --twice" in result.output

"""`egov converge` parses Ansible's PLAY RECAP into per-host counts and flags failed/changed hosts."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from egov.converge import RunResult, parse_changed_tasks, parse_recap, strategy_env, summary_lines

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

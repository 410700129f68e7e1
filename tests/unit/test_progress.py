"""`egov converge` progress: per-host done / failed / running, the slowest host and its task, from
Ansible's default-callback output (recorded here) as it arrives."""

from __future__ import annotations

from egov.converge import RunResult, parse_recap, summary_lines
from egov.progress import Progress

# recorded from a lab converge (result_format = yaml, profile_tasks on), cut and with one host stuck
HEAD = """
PLAY [Baseline | harden every Linux host] **************************************

TASK [Baseline | facts the roles need (virtualisation, distribution)] **********
Wednesday 02 December 2026  12:47:22 +0000 (0:00:00.489)       0:00:00.489 ****
ok: [bastion-01]
ok: [backup-01]
ok: [monitoring-01]

TASK [Baseline | lab admin keypairs, generated on the controller (only public keys reach hosts)] ***
Wednesday 02 December 2026  12:47:25 +0000 (0:00:01.132)       0:00:03.327 ****
ok: [bastion-01 -> localhost] => (item=qtv.tran)

TASK [base : Apt | update the package cache through the mirror] ****************
Wednesday 02 December 2026  12:47:28 +0000 (0:00:00.208)       0:00:05.912 ****
ok: [bastion-01]
ok: [monitoring-01]
"""

TAIL = """fatal: [backup-01]: FAILED! => changed=false
  msg: 'Task failed: Timed out after 240 second(s).'

TASK [base : Packages | install the packages of the enabled concerns] **********
Wednesday 02 December 2026  12:51:29 +0000 (0:04:01.221)       0:04:07.133 ****
ok: [bastion-01]
ok: [monitoring-01]

TASK [base : Rsyslog | optional probe] *****************************************
fatal: [monitoring-01]: FAILED! => {"changed": false, "msg": "probe failed"}
...ignoring

PLAY RECAP *********************************************************************
backup-01                  : ok=3    changed=0    unreachable=0    failed=1    skipped=0    rescued=0    ignored=0
bastion-01                 : ok=5    changed=0    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0
monitoring-01              : ok=5    changed=0    unreachable=0    failed=0    skipped=0    rescued=0    ignored=1
"""


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def feed(progress: Progress, text: str) -> None:
    for line in text.splitlines(keepends=True):
        progress.feed(line)


def test_a_stalled_host_is_the_slowest_with_its_task() -> None:
    clock = Clock()
    progress = Progress(clock=clock)
    feed(progress, HEAD)
    clock.now += 95
    assert progress.running == {"bastion-01", "backup-01", "monitoring-01"}
    host, task, seconds = progress.slowest()
    assert host == "backup-01" and task == "base : Apt | update the package cache through the mirror"
    assert seconds == 95
    line = progress.status_line("first")
    assert "0 done, 0 failed, 3 running (1 on the current task)" in line
    assert "slowest: backup-01 on 'base : Apt | update the package cache through the mirror' for 95s" in line


def test_failure_names_task_and_reason_and_ignored_errors_do_not_count() -> None:
    clock = Clock()
    progress = Progress(clock=clock)
    feed(progress, HEAD + TAIL)
    failures = progress.failures()
    assert set(failures) == {"backup-01"}
    assert str(failures["backup-01"]) == ("base : Apt | update the package cache through the mirror: "
                                          "Task failed: Timed out after 240 second(s).")
    assert progress.done == {"bastion-01", "monitoring-01"}
    assert progress.slowest() is None
    assert "2 done, 1 failed, 0 running" in progress.status_line()


def test_failed_host_moves_back_to_running_when_rescued() -> None:
    progress = Progress(clock=Clock())
    feed(progress, "TASK [a : one] ***\nfatal: [web-01]: FAILED! => {\"msg\": \"boom \\\"x\\\"\"}\n")
    assert str(progress.failures()["web-01"]) == 'a : one: boom "x"'
    feed(progress, "TASK [a : rescue] ***\nok: [web-01]\n")
    assert not progress.failures() and progress.running == {"web-01"}


def test_unreachable_host_is_failed() -> None:
    progress = Progress(clock=Clock())
    feed(progress, "TASK [Gathering Facts] ***\nfatal: [fw-01]: UNREACHABLE! => changed=false\n"
                   "  msg: 'Failed to connect to the host via ssh: Connection timed out'\n  unreachable: true\n")
    assert str(progress.failures()["fw-01"]) == ("Gathering Facts: unreachable: Failed to connect to the host via "
                                                 "ssh: Connection timed out")


def test_summary_names_the_failed_task() -> None:
    progress = Progress(clock=Clock())
    feed(progress, HEAD + TAIL)
    result = RunResult("first", 250.0, 2, "log", parse_recap(TAIL),
                       failures={h: str(f) for h, f in progress.failures().items()})
    text = "\n".join(summary_lines(result))
    assert "backup-01: base : Apt | update the package cache through the mirror: Task failed" in text

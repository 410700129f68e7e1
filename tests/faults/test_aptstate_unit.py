"""Tests of the fault tests' host checks: a stuck apt method is found, a clean host passes (recorded `ps`)."""

from __future__ import annotations

import pytest

from tests.faults.aptstate import APT_LOCKS, held_locks, leftover_apt

# `ps -eo pid=,etimes=,comm=,args=` on a lab host (Debian 12) while `apt-get update` waited on a silent proxy
STUCK = """\
      1    5012 systemd         /sbin/init
    312    5000 sshd            sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups
   4242     187 apt-get         apt-get -q update
   4245     187 http            /usr/lib/apt/methods/http
   4246     187 gpgv            /usr/lib/apt/methods/gpgv
   4301       0 ps              ps -eo pid=,etimes=,comm=,args=
"""
CLEAN = """\
      1    5012 systemd         /sbin/init
    312    5000 sshd            sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups
   4290       3 sh              sh -c ps -eo pid=,etimes=,comm=,args=
   4301       0 ps              ps -eo pid=,etimes=,comm=,args=
   4302       9 python3         /usr/bin/python3 /usr/local/bin/apt-report http
"""


def test_a_stuck_apt_method_is_found() -> None:
    assert leftover_apt(STUCK) == ["4242 apt-get (187 s): apt-get -q update",
                                   "4245 http (187 s): /usr/lib/apt/methods/http",
                                   "4246 gpgv (187 s): /usr/lib/apt/methods/gpgv"]


def test_a_clean_host_has_no_leftover() -> None:
    # a process that merely mentions apt or http in its arguments is not one of apt's
    assert leftover_apt(CLEAN) == []


def test_held_locks_are_named_and_a_silent_probe_is_an_error() -> None:
    free = "".join(f"free {path}\n" for path in APT_LOCKS)
    assert held_locks(free) == []
    held = free.replace(f"free {APT_LOCKS[2]}", f"held {APT_LOCKS[2]} 11")
    assert held_locks(held) == [APT_LOCKS[2]]
    with pytest.raises(ValueError, match="did not report"):
        held_locks("Traceback (most recent call last):\n")

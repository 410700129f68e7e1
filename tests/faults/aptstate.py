"""What a fault test asks of a host after apt was ended by a bound (pure parsing, unit-tested).

`PS_COMMAND` lists the processes; `leftover_apt` names those of apt (apt, apt-get, aptitude, dpkg, and
apt's methods http, https, store, gpgv: the set role base's lock recovery kills). `LOCK_PROBE` tries
the locks apt and dpkg take (fcntl, as they do, without waiting) and prints one line per lock;
`held_locks` names the held ones.
"""

from __future__ import annotations

import re

APT_PROCESSES = frozenset({"apt", "apt-get", "aptitude", "dpkg", "http", "https", "store", "gpgv"})
PS_COMMAND = "ps -eo pid=,etimes=,comm=,args="
APT_LOCKS = ("/var/lib/dpkg/lock-frontend", "/var/lib/dpkg/lock", "/var/lib/apt/lists/lock")
LOCK_PROBE = (
    "python3 -c 'import fcntl, sys\n"
    "for path in sys.argv[1:]:\n"
    "    try:\n"
    "        with open(path, \"a\") as f:\n"
    "            fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
    "        print(\"free\", path)\n"
    "    except OSError as e:\n"
    "        print(\"held\", path, e.errno)\n"
    "' " + " ".join(APT_LOCKS)
)
PS_LINE = re.compile(r"^\s*(?P<pid>\d+)\s+(?P<etimes>\d+)\s+(?P<comm>\S+)\s*(?P<args>.*)$")


def leftover_apt(ps_output: str) -> list[str]:
    """'pid comm (N s): args' of every apt/dpkg/method process in `PS_COMMAND`'s output."""
    found = []
    for line in ps_output.splitlines():
        match = PS_LINE.match(line)
        if match and match["comm"] in APT_PROCESSES:
            found.append(f"{match['pid']} {match['comm']} ({match['etimes']} s): {match['args'].strip()}")
    return found


def held_locks(probe_output: str) -> list[str]:
    """The locks `LOCK_PROBE` found held; every lock must have been reported (free or held)."""
    seen = {line.split()[1]: line.split()[0] for line in probe_output.splitlines() if len(line.split()) >= 2}
    missing = [path for path in APT_LOCKS if path not in seen]
    if missing:
        raise ValueError(f"the lock probe did not report {', '.join(missing)}: {probe_output!r}")
    return [path for path in APT_LOCKS if seen[path] != "free"]

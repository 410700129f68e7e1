"""Backup and restore on the lab (issue 16): real borg repositories on backup-01, real restores.

A backup runs and `borg list` shows its archives; the backup host alone cannot read them (encrypted);
a client's key reaches only its own repository. The proof: an official's mailbox (its messages) and
another official's directory entry are deleted on the lab, `playbooks/restore.yml` runs, and they are
back, compared by content (message hashes and count as Dovecot sees them; the entry's attributes, on
the provider and on the replica). Negative cases: a wrong key fails the restore and changes nothing,
a missing source fails the backup and is reported. Figures (times, sizes) go to
reports/backup-figures.json.

EGOV_LAB_CONVERGED=1 (`make lab-test`): site.yml was converged on these hosts; otherwise the test
converges playbooks/backup.yml once (the systems themselves must be converged already).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from egov import settings
from tests.conftest import lab_ssh, run

pytestmark = pytest.mark.lab

REPO = Path(__file__).resolve().parents[2]
INVENTORY = REPO / "inventories" / "lab"
HOSTS = yaml.safe_load((INVENTORY / "hosts.yml").read_text(encoding="utf-8"))
PROVINCE = yaml.safe_load((INVENTORY / "group_vars" / "all" / "province.yml").read_text(encoding="utf-8"))
DOMAIN = PROVINCE["province_domain"]
BASE_DN = "dc=" + DOMAIN.replace(".", ",dc=")
NEEDED = ["backup-01", "mail-01", "directory-01", "directory-02"]
METRICS = "/var/lib/prometheus/node-exporter/egov_backup.prom"
FIGURES = REPO / "reports" / "backup-figures.json"
# attributes a directory restore recreates (operational ones are new on a re-added entry)
OPERATIONAL = ("entryUUID", "entryCSN", "createTimestamp", "creatorsName", "modifiersName", "modifyTimestamp",
               "structuralObjectClass", "entryDN", "subschemaSubentry", "hasSubordinates", "pwdChangedTime")


def address(host: str) -> str:
    for group in HOSTS.values():
        for name, hv in ((group or {}).get("hosts") or {}).items():
            if name == host and isinstance(hv, dict):
                return str(hv["ansible_host"])
    raise KeyError(host)


def record(name: str, value: Any) -> None:
    data = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    data[name] = value
    FIGURES.parent.mkdir(exist_ok=True)
    FIGURES.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


@dataclass
class Lab:
    def sh(self, host: str, command: str, *, check: bool = True,
           timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return lab_ssh(address(host), command, check=check, timeout=timeout)

    def out(self, host: str, command: str, **kw: Any) -> str:
        return self.sh(host, command, **kw).stdout

    def backup(self, host: str, source: str) -> dict[str, Any]:
        line = self.out(host, f"egov-backup run {source}").strip().splitlines()[-1]
        return dict(json.loads(line))

    def restore(self, host: str, source: str, *extra: str) -> subprocess.CompletedProcess[str]:
        return run(["ansible-playbook", "-i", str(INVENTORY), str(REPO / "playbooks" / "restore.yml"),
                    "-e", f"restore_host={host}", "-e", f"restore_source={source}", *extra],
                   check=False, timeout=900)


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    if os.geteuid() != 0:
        pytest.skip("the lab tests need root")
    missing = [c for c in ("egov", "ansible-playbook", "ssh") if shutil.which(c) is None]
    if missing:
        pytest.skip(f"lab tooling missing ({', '.join(missing)}): run `make deps`")
    up = settings.lab_up_hosts()
    hosts = set(up.read_text().split()) if up.exists() else set()
    if not set(NEEDED) <= hosts:
        pytest.skip(f"lab hosts {sorted(set(NEEDED) - hosts)} are not up (egov lab up --only dc)")
    if not settings.lab_converged():
        t0 = time.monotonic()
        run(["ansible-playbook", "-i", str(INVENTORY), str(REPO / "playbooks" / "backup.yml"),
             "--limit", "backup,directory,mail,dns,pki"], timeout=1800)
        record("converge_backup_playbook_seconds", round(time.monotonic() - t0, 1))
    yield Lab()


def officials() -> list[str]:
    ldif = (settings.secrets_dir() / "ldap" / "people.ldif").read_text(encoding="utf-8")
    return [line.split("=", 1)[1].split(",", 1)[0] for line in ldif.splitlines() if line.startswith("dn: uid=")]


def maildir_hashes(lab: Lab, uid: str) -> list[str]:
    home = f"/var/vmail/{DOMAIN}/{uid}/Maildir"
    text = lab.out("mail-01", f"test -d {home} || exit 0; find {home} -type f"
                              " \\( -path '*/cur/*' -o -path '*/new/*' \\) -exec sha256sum {} + | cut -d' ' -f1 | sort")
    return text.split()


def message_count(lab: Lab, uid: str) -> int:
    out = lab.out("mail-01", f"doveadm mailbox status -u {uid}@{DOMAIN} messages INBOX")
    return int(out.split("=")[1])


def entry(lab: Lab, host: str, uid: str) -> list[str]:
    """The user attributes of an official's entry, sorted (empty when there is none)."""
    out = lab.out(host, f"ldapsearch -LLL -o ldif_wrap=no -Q -Y EXTERNAL -H ldapi:/// -b ou=people,{BASE_DN} "
                        f"'(uid={uid})' '*'")
    return sorted(line for line in out.splitlines() if line and not line.startswith(OPERATIONAL))


@pytest.fixture(scope="module")
def mailbox(lab: Lab) -> dict[str, Any]:
    """An official's mailbox with five messages of its own, then a backup of mail and of the directory."""
    uid = officials()[0]
    stamp = int(time.time())
    for n in range(5):
        body = (f"From: backup-test@{DOMAIN}\nTo: {uid}@{DOMAIN}\nSubject: backup proof {stamp}-{n}\n"
                f"Message-ID: <backup-{stamp}-{n}@{DOMAIN}>\n\nmessage {n} of the backup proof {stamp}\n")
        lab.sh("mail-01", f"printf '%s' '{body}' | doveadm save -u {uid}@{DOMAIN} -m INBOX")
    hashes = maildir_hashes(lab, uid)
    assert len(hashes) >= 5
    results = {}
    for host, source in (("mail-01", "mail"), ("directory-01", "directory")):
        results[source] = lab.backup(host, source)
        record(f"backup_{source}", results[source])
    return {"uid": uid, "hashes": hashes, "count": message_count(lab, uid), "backups": results}


def test_a_backup_runs_and_borg_list_shows_its_archives(lab: Lab, mailbox: dict[str, Any]) -> None:
    for source, result in mailbox["backups"].items():
        assert result["archive"].startswith(f"{source}-") and result["files"] > 0, result
    listing = json.loads(lab.out("mail-01", "egov-backup list mail"))
    assert mailbox["backups"]["mail"]["archive"] in listing["mail"]
    # borg list itself, with the host's key, over the restricted SSH key (BORG_REPO is this host's)
    names = lab.out("mail-01", "egov-backup borg list --short")
    assert mailbox["backups"]["mail"]["archive"] in names.split()
    metrics = lab.out("mail-01", f"cat {METRICS}")
    assert 'egov_backup_last_run_success{system="mail"} 1' in metrics


def test_the_backup_host_alone_cannot_read_an_archive(lab: Lab, mailbox: dict[str, Any]) -> None:
    repo = "/srv/borg/repos/mail-01"
    assert lab.sh("backup-01", f"test -f {repo}/config", check=False).returncode == 0
    proc = lab.sh("backup-01", f"BORG_PASSPHRASE= runuser -u borg -- timeout 60 borg list {repo} </dev/null",
                  check=False)
    assert proc.returncode != 0 and "passphrase" in (proc.stderr + proc.stdout).lower(), proc.stderr


def test_a_clients_key_reaches_only_its_own_repository(lab: Lab, mailbox: dict[str, Any]) -> None:
    other = f"ssh://borg@{address('backup-01')}/srv/borg/repos/directory-01"
    proc = lab.sh("mail-01", f"BORG_PASSPHRASE=x timeout 60 egov-backup borg list {other}", check=False)
    assert proc.returncode != 0 and "not allowed" in proc.stderr.lower() + proc.stdout.lower(), proc.stderr


def test_a_deleted_mailbox_is_back_after_the_restore(lab: Lab, mailbox: dict[str, Any]) -> None:
    uid = mailbox["uid"]
    lab.sh("mail-01", f"doveadm kick {uid}@{DOMAIN} >/dev/null 2>&1 || true; rm -rf /var/vmail/{DOMAIN}/{uid}")
    assert maildir_hashes(lab, uid) == []
    assert message_count(lab, uid) == 0
    t0 = time.monotonic()
    proc = lab.restore("mail-01", "mail")
    record("restore_mail_seconds", round(time.monotonic() - t0, 1))
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert maildir_hashes(lab, uid) == mailbox["hashes"]
    assert message_count(lab, uid) == mailbox["count"]
    assert 'egov_restore_last_success_timestamp_seconds{system="mail"}' in lab.out("mail-01", f"cat {METRICS}")


def test_a_deleted_directory_entry_is_back_after_the_restore(lab: Lab, mailbox: dict[str, Any]) -> None:
    uid = officials()[1]
    before = entry(lab, "directory-01", uid)
    assert any(line.startswith("userPassword:") for line in before), before
    dn = next(line for line in lab.out("directory-01", f"ldapsearch -LLL -o ldif_wrap=no -Q -Y EXTERNAL -H ldapi:/// "
                                                       f"-b ou=people,{BASE_DN} '(uid={uid})' dn").splitlines()
              if line.startswith("dn: "))[4:]
    lab.sh("directory-01", f"ldapdelete -Q -Y EXTERNAL -H ldapi:/// '{dn}'")
    assert entry(lab, "directory-01", uid) == []
    t0 = time.monotonic()
    proc = lab.restore("directory-01", "directory")
    record("restore_directory_seconds", round(time.monotonic() - t0, 1))
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert entry(lab, "directory-01", uid) == before
    deadline = time.monotonic() + 60       # the replica gets it by syncrepl
    while entry(lab, "directory-02", uid) != before and time.monotonic() < deadline:
        time.sleep(2)
    assert entry(lab, "directory-02", uid) == before


def test_the_drill_proves_the_latest_archive_and_is_a_metric(lab: Lab, mailbox: dict[str, Any]) -> None:
    t0 = time.monotonic()
    proc = run(["ansible-playbook", "-i", str(INVENTORY), str(REPO / "playbooks" / "restore.yml"),
                "-e", "restore_host=directory-01", "-e", "restore_source=directory", "-e", "restore_mode=drill"],
               check=False, timeout=900)
    record("drill_directory_seconds", round(time.monotonic() - t0, 1))
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "changed=0" in proc.stdout
    metrics = lab.out("directory-01", f"cat {METRICS}")
    assert 'egov_restore_drill_success{system="directory"} 1' in metrics


def test_a_wrong_key_fails_the_restore_and_changes_nothing(lab: Lab, mailbox: dict[str, Any], tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.passphrase"
    wrong.write_text(hashlib.sha256(b"not the key").hexdigest() + "\n")
    wrong.chmod(0o600)
    before = maildir_hashes(lab, mailbox["uid"])
    proc = lab.restore("mail-01", "mail", "-e", f"restore_passphrase_file={wrong}")
    assert proc.returncode != 0
    assert "passphrase" in proc.stdout.lower(), proc.stdout[-3000:]
    assert maildir_hashes(lab, mailbox["uid"]) == before
    assert lab.sh("mail-01", "test ! -e /etc/egov-backup/restore.passphrase", check=False).returncode == 0


def test_a_missing_source_fails_the_backup_and_is_reported(lab: Lab, mailbox: dict[str, Any]) -> None:
    """A source path gone (a system moved its data): the run fails, names it, and the metric says 0."""
    script = ("import json; c = json.load(open('/etc/egov-backup/backup.json'));"
              " c['sources'] = [dict(s, paths=s['paths'] + ['/var/lib/no-such-state']) for s in c['sources']];"
              " c.update(state_file='/tmp/egov-backup-neg/state.json', metrics_file='/tmp/egov-backup-neg/m.prom',"
              " lock_file='/tmp/egov-backup-neg/lock'); json.dump(c, open('/tmp/egov-backup-neg/backup.json', 'w'))")
    lab.sh("mail-01", f"mkdir -p /tmp/egov-backup-neg && python3 -c \"{script}\"")
    proc = lab.sh("mail-01", "EGOV_BACKUP_CONFIG=/tmp/egov-backup-neg/backup.json egov-backup run mail", check=False)
    try:
        assert proc.returncode == 1
        assert "/var/lib/no-such-state" in proc.stderr
        assert 'egov_backup_last_run_success{system="mail"} 0' in lab.out("mail-01", "cat /tmp/egov-backup-neg/m.prom")
    finally:
        lab.sh("mail-01", "rm -rf /tmp/egov-backup-neg")


def test_timers_follow_the_models_schedule(lab: Lab) -> None:
    policy = PROVINCE["province_backup_policy"]
    for host in ("mail-01", "directory-01"):
        shown = lab.out(host, "systemctl is-enabled egov-backup.timer egov-backup-drill.timer;"
                              " systemctl show -p TimersCalendar egov-backup.timer egov-backup-drill.timer")
        assert shown.count("enabled") == 2, shown
        assert policy["schedule"] in shown and policy["drill_schedule"] in shown, shown

"""The directory on the lab: tree = model, binds over TLS from the allowed sources, ACLs, replica.

Real clients and protocols: OpenLDAP's ldapsearch/ldapwhoami/ldappasswd over SSH on mail-01 and
sso-01 (LDAPS 636 and StartTLS 389, CA chain verified, TLS_REQCERT demand), and over ldapi:/// as
root on the directory hosts for the counts. Needs root and the lab (`make deps`); the fixture brings
up the DC hosts and converges playbooks/directory.yml once per session.
"""

from __future__ import annotations

import shlex
import time
from collections import Counter

import pytest

from egov.model.officials import lab_password
from tests.directory.conftest import CLIENT_CA, CLIENT_HOSTS, Host, Lab

pytestmark = pytest.mark.lab
BASE = "dc=soctrang,dc=gov,dc=vn"
PEOPLE = f"ou=people,{BASE}"
TLS_ENV = f"LDAPTLS_CACERT={CLIENT_CA} LDAPTLS_REQCERT=demand"


def ldapi(host: Host, args: str) -> list[str]:
    """ldapsearch as root over ldapi:/// (SASL EXTERNAL) on a directory host: LDIF lines, unwrapped."""
    proc = host.run(f"sudo ldapsearch -LLL -Q -Y EXTERNAL -H ldapi:/// -o ldif-wrap=no {args}")
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def sample(lab: Lab) -> list[str]:
    """One official of a department, of a district and of a commune (the last of each unit)."""
    by_kind: dict[str, str] = {}
    for official in lab.tree.officials:
        by_kind[official.unit.kind] = official.uid
    return [by_kind["department"], by_kind["district"], by_kind["commune"]]


def client_ldap(lab: Lab, client: str, tool: str, uri: str, args: str, password: str | None) -> tuple[int, str]:
    """Run an OpenLDAP client tool on a lab client host; the password goes through stdin (-y)."""
    auth = "-y /dev/stdin" if password is not None else ""
    proc = lab.clients[client].run(f"{TLS_ENV} {tool} -x -H {uri} {auth} {args}", stdin=password or "")
    return proc.returncode, proc.stdout + proc.stderr


def test_one_ou_per_unit_of_the_model(lab: Lab) -> None:
    lines = ldapi(lab.provider, f"-b {PEOPLE} '(businessCategory=*)' businessCategory")
    kinds = Counter(line.split(": ", 1)[1] for line in lines if line.startswith("businessCategory: "))
    assert kinds == Counter(u.kind for u in lab.tree.units) == {"department": 20, "district": 11, "commune": 109}


def test_officials_per_ou_match_the_model(lab: Lab) -> None:
    lines = ldapi(lab.provider, f"-b {PEOPLE} '(objectClass=inetOrgPerson)' departmentNumber")
    live = Counter(line.split(": ", 1)[1] for line in lines if line.startswith("departmentNumber: "))
    assert live == Counter(o.unit.slug for o in lab.tree.officials)
    assert sum(live.values()) == 3544


def test_an_official_entry_carries_the_model_attributes(lab: Lab) -> None:
    official = lab.tree.official(sample(lab)[2])
    lines = ldapi(lab.provider, f"-b {official.dn} -s base uid mail uidNumber employeeNumber")
    assert f"mail: {official.mail}" in lines and f"uidNumber: {official.uid_number}" in lines


@pytest.mark.parametrize("client", CLIENT_HOSTS)
def test_sampled_officials_bind_over_ldaps_with_their_lab_password(lab: Lab, client: str) -> None:
    for uid in sample(lab):
        official = lab.tree.official(uid)
        for address in (lab.provider.address, lab.replica.address):
            rc, out = client_ldap(lab, client, "ldapwhoami", f"ldaps://{address}", f"-D {shlex.quote(official.dn)}",
                                  lab_password(lab.seed, uid))
            assert rc == 0 and f"dn:{official.dn}" in out, f"{uid} on {address} from {client}: {out}"


def test_starttls_bind_works_and_the_chain_is_verified(lab: Lab) -> None:
    official = lab.tree.official(sample(lab)[0])
    rc, out = client_ldap(lab, "mail-01", "ldapwhoami", f"ldap://{lab.provider.address}",
                          f"-ZZ -D {shlex.quote(official.dn)}", lab_password(lab.seed, official.uid))
    assert rc == 0, out
    # without the province CA the certificate is not trusted: the client refuses to talk
    # (the system store has the province CA too, role ca_trust: use one unrelated public CA)
    proc = lab.clients["mail-01"].run(
        "LDAPTLS_CACERT=$(ls /usr/share/ca-certificates/mozilla/*.crt | head -1) LDAPTLS_REQCERT=demand "
        f"ldapwhoami -x -H ldaps://{lab.provider.address}")
    if proc.returncode == 0:
        pytest.fail("a client without the province CA chain trusted the directory's certificate")


def test_wrong_password_is_refused(lab: Lab) -> None:
    official = lab.tree.official(sample(lab)[1])
    rc, out = client_ldap(lab, "sso-01", "ldapwhoami", f"ldaps://{lab.provider.address}",
                          f"-D {shlex.quote(official.dn)}", lab_password(lab.seed, official.uid) + "x")
    assert rc == 49 and "Invalid credentials" in out, out


def test_simple_bind_without_tls_is_refused(lab: Lab) -> None:
    official = lab.tree.official(sample(lab)[1])
    rc, out = client_ldap(lab, "mail-01", "ldapwhoami", f"ldap://{lab.provider.address}",
                          f"-D {shlex.quote(official.dn)}", lab_password(lab.seed, official.uid))
    assert rc == 13 and "onfidentiality required" in out, out


def test_tls_below_1_2_is_refused(lab: Lab) -> None:
    def handshake(version: str) -> str:
        return lab.clients["mail-01"].run(
            f"echo | openssl s_client -connect {lab.provider.address}:636 -{version} -CAfile {CLIENT_CA} 2>&1").stdout

    tls12 = handshake("tls1_2")
    assert "Verify return code: 0 (ok)" in tls12 and "Cipher is (NONE)" not in tls12, tls12
    for old in ("tls1", "tls1_1"):
        out = handshake(old)
        assert "Cipher is (NONE)" in out and "no peer certificate available" in out, out


def test_nobody_but_root_and_the_replicator_reads_passwords(lab: Lab) -> None:
    target = lab.tree.official(sample(lab)[2])
    other = lab.tree.official(sample(lab)[0])
    uri = f"ldaps://{lab.provider.address}"
    # anonymous: nothing at all (the entry is invisible), certainly no userPassword
    rc, out = client_ldap(lab, "mail-01", "ldapsearch", uri, f"-LLL -b {shlex.quote(target.dn)} -s base userPassword",
                          None)
    assert "userPassword" not in out and "dn:" not in out, out
    # another official: the public attributes, never the password
    rc, out = client_ldap(lab, "sso-01", "ldapsearch", uri,
                          f"-LLL -D {shlex.quote(other.dn)} -b {shlex.quote(target.dn)} -s base mail userPassword",
                          lab_password(lab.seed, other.uid))
    assert rc == 0 and f"mail: {target.mail}" in out and "userPassword" not in out, out
    # the read-only service account of the mail hosts: public attributes, no password, no writes
    mail_dn = f"cn=mail,ou=services,{BASE}"
    rc, out = client_ldap(lab, "mail-01", "ldapsearch", uri,
                          f"-LLL -D {mail_dn} -b {PEOPLE} '(uid={target.uid})' mail userPassword",
                          lab.secret("bind-mail"))
    assert rc == 0 and f"mail: {target.mail}" in out and "userPassword" not in out, out
    write = lab.clients["mail-01"].run(
        f"umask 077; cat > /tmp/.egov-bind-mail-pw; {TLS_ENV} ldapmodify -x -H {uri} -D {mail_dn} "
        f"-y /tmp/.egov-bind-mail-pw <<'EOF'\ndn: {target.dn}\nchangetype: modify\nreplace: title\ntitle: x\nEOF\n"
        "rc=$?; rm -f /tmp/.egov-bind-mail-pw; exit $rc", stdin=lab.secret("bind-mail"))
    assert write.returncode == 50, write.stdout + write.stderr          # insufficient access


def test_password_policy_and_self_service(lab: Lab) -> None:
    """An official changes their own password (policy enforced); the next converge restores the lab one."""
    official = lab.tree.official(sample(lab)[0])
    old = lab_password(lab.seed, official.uid)
    client = lab.clients["sso-01"]
    uri = f"ldaps://{lab.provider.address}"
    short = client.run(f"{TLS_ENV} ldappasswd -x -H {uri} -D {shlex.quote(official.dn)} -y /dev/stdin -a {old} "
                       f"-s short1", stdin=old)
    assert short.returncode != 0 and "quality" in (short.stdout + short.stderr).lower(), short.stdout + short.stderr
    new = f"Changed-{time.time_ns()}-{old[:8]}"
    change = client.run(f"{TLS_ENV} ldappasswd -x -H {uri} -D {shlex.quote(official.dn)} -y /dev/stdin "
                        f"-a {old} -s {new}", stdin=old)
    assert change.returncode == 0, change.stdout + change.stderr
    try:
        rc, out = client_ldap(lab, "sso-01", "ldapwhoami", uri, f"-D {shlex.quote(official.dn)}", new)
        assert rc == 0, out
    finally:
        restore = lab.provider.run(
            f"sudo /usr/local/sbin/egov-ldap-sync --ldif /var/lib/egov-directory/people.ldif --root {PEOPLE} "
            "--passwords managed")
        assert restore.returncode == 0 and '"modified": 1' in restore.stdout, restore.stdout + restore.stderr
    rc, out = client_ldap(lab, "sso-01", "ldapwhoami", uri, f"-D {shlex.quote(official.dn)}", old)
    assert rc == 0, out


def _count(host: Host) -> int:
    return sum(1 for line in ldapi(host, f"-b {BASE} '(objectClass=*)' 1.1") if line.startswith("dn: "))


def test_replica_has_every_entry(lab: Lab) -> None:
    expected = _count(lab.provider)
    assert expected >= 3 + len(lab.tree.units) + len(lab.tree.officials)
    deadline = time.monotonic() + 120
    while (live := _count(lab.replica)) != expected and time.monotonic() < deadline:
        time.sleep(5)
    assert live == expected


def test_a_change_on_the_provider_reaches_the_replica(lab: Lab) -> None:
    official = lab.tree.official(sample(lab)[1])
    marker = f"replication probe {time.time_ns()}"
    ldif = f"dn: {official.dn}\nchangetype: modify\nreplace: description\ndescription: {marker}\n"
    change = lab.provider.run("sudo ldapmodify -Q -Y EXTERNAL -H ldapi:///", stdin=ldif)
    assert change.returncode == 0, change.stderr
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if f"description: {marker}" in ldapi(lab.replica, f"-b {official.dn} -s base description"):
                break
            time.sleep(2)
        else:
            pytest.fail(f"the change on {lab.provider.name} did not reach {lab.replica.name} within 60 s")
    finally:
        lab.provider.run("sudo ldapmodify -Q -Y EXTERNAL -H ldapi:///",
                         stdin=f"dn: {official.dn}\nchangetype: modify\ndelete: description\n")

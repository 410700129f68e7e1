"""Serve many emulated IOS switches from one process (test harness; see fakeios.py).

    python tests/network/harness/switchfarm.py SPEC.yml READY_FILE

SPEC: {switches: [{name, ip, port, username, password, enable}]}. The host key is parsed once
(parsing it per switch costs ~40 ms each). READY_FILE is written once every port listens.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import yaml
from fake_switches.switch_configuration import SwitchConfiguration
from fake_switches.transports.ssh_service import SSHDemoRealm, getRSAKeys
from twisted.conch.ssh import factory, keys
from twisted.cred import checkers, portal
from twisted.internet import reactor

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fakeios import HarnessSwitchCore


def serve(spec: dict, ready: Path) -> None:
    public, private = getRSAKeys()
    public_key = keys.Key.fromString(data=public.encode())
    private_key = keys.Key.fromString(data=private.encode())
    for entry in spec["switches"]:
        conf = SwitchConfiguration(entry["ip"], name=entry.get("hostname", entry["name"]),
                                   privileged_passwords=[entry["enable"]],
                                   ports=HarnessSwitchCore.get_default_ports())
        core = HarnessSwitchCore(conf)
        ssh_factory = factory.SSHFactory()
        ssh_factory.portal = portal.Portal(SSHDemoRealm(core))
        ssh_factory.portal.registerChecker(checkers.InMemoryUsernamePasswordDatabaseDontUse(
            **{entry["username"]: entry["password"].encode()}))
        ssh_factory.publicKeys = {b"ssh-rsa": public_key}
        ssh_factory.privateKeys = {b"ssh-rsa": private_key}
        reactor.listenTCP(port=int(entry["port"]), factory=ssh_factory, interface=entry["ip"])
    reactor.callWhenRunning(lambda: ready.write_text("ready\n"))
    reactor.run()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    serve(yaml.safe_load(Path(sys.argv[1]).read_text()), Path(sys.argv[2]))

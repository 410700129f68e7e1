"""Tests of the traffic-matrix test: a probe stopped by the HOST firewall is never counted as the
DC/site firewall doing its job, and an allowed flow must reach the listener (no lab needed)."""

from __future__ import annotations

import socket
import threading

import pytest
from tests.network.harness.probe import probe_one
from tests.network.harness.verdict import HOST, NETWORK, judge, stopped_by


@pytest.mark.parametrize(
    ("allowed", "delivered", "result", "verifiable", "fails_with"),
    [
        # model and every layer agree
        (True, True, "connected", True, ""),
        (False, False, "timeout", True, ""),
        (False, False, "unreachable", True, ""),
        (True, True, "timeout", False, ""),  # silent real UDP service: delivered is all
        # port drift: the model allows, the network passes, the host firewall drops (default deny)
        (True, True, "timeout", True, f"stopped by {HOST}"),
        # the model allows, the service does not listen
        (True, True, "refused", True, "no listener"),
        # the model allows, the DC/site firewall drops
        (True, False, "timeout", True, f"stopped by {NETWORK}"),
        # the model denies, the DC/site firewall lets it through and only the host firewall stops it
        (False, True, "timeout", True, f"passed {NETWORK} (stopped only by {HOST})"),
        (False, True, "refused", True, f"passed {NETWORK}"),
        (False, True, "connected", True, "DENIED but connected"),
        (False, False, "connected", True, "DENIED but connected"),
    ],
)
def test_judge(allowed: bool, delivered: bool, result: str, verifiable: bool, fails_with: str) -> None:
    reason = judge(allowed, delivered, result, verifiable)
    if fails_with:
        assert fails_with in reason, reason
    else:
        assert reason == "", reason


def test_stopped_by() -> None:
    assert stopped_by(False, "timeout") == NETWORK
    assert stopped_by(True, "timeout") == HOST
    assert stopped_by(True, "connected") == ""


def _free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_probe_tcp_connected_and_refused_on_loopback() -> None:
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(4)
        assert probe_one("127.0.0.1", "tcp", srv.getsockname()[1], 1.0) == "connected"
    assert probe_one("127.0.0.1", "tcp", _free_port(socket.SOCK_STREAM), 1.0) == "refused"


def test_probe_udp_echo_refused_and_real_query_on_loopback() -> None:
    assert probe_one("127.0.0.1", "udp", _free_port(socket.SOCK_DGRAM), 0.8) == "refused"
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("127.0.0.1", 0))
    port = srv.getsockname()[1]
    stop = threading.Event()

    def answer(reply: bytes | None) -> None:
        srv.settimeout(0.1)
        while not stop.is_set():
            try:
                data, peer = srv.recvfrom(2048)
            except TimeoutError:
                continue
            srv.sendto(reply if reply is not None else data, peer)

    t = threading.Thread(target=answer, args=(b"not-an-echo",), daemon=True)
    t.start()
    try:
        # an echo probe wants its own bytes back: another reply is not proof of our echo server
        assert probe_one("127.0.0.1", "udp", port, 0.8, echo=True) == "timeout"
    finally:
        stop.set()
        t.join()
        srv.close()

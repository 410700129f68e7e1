"""Unit tests of the video-conference lab helpers (no lab): SIP digest and messages, the REGISTER client
against a fake registrar on loopback, packet parsing, RTP, Opus and tone levels, the RTP exchange against a
fake mixer, the browser page's candidates. `pytest -q -m "not lab" -p no:xdist tests/vc/test_vc_unit.py`."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.vc import rtp, sip
from tests.vc.janus_browser import candidates, page_for

# ---- digest ---------------------------------------------------------------------------------------------------


def test_digest_matches_rfc_2617s_example() -> None:
    """RFC 2617 §3.5: Mufasa / "Circle Of Life" at testrealm@host.com, GET /dir/index.html, qop=auth."""
    ha1 = sip.digest_ha1("Mufasa", "testrealm@host.com", "Circle Of Life")
    response = sip.digest_response(ha1=ha1, method="GET", uri="/dir/index.html",
                                   nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", qop="auth", nc="00000001",
                                   cnonce="0a4f113b")
    assert response == "6629fae49393a05397450978507c4ef1"
    wrong = sip.digest_response(ha1=sip.digest_ha1("Mufasa", "testrealm@host.com", "Circle of Life"), method="GET",
                                uri="/dir/index.html", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", qop="auth",
                                nc="00000001", cnonce="0a4f113b")
    assert wrong != response


def test_digest_without_qop_is_rfc_2069s_form() -> None:
    ha1 = sip.digest_ha1("u", "r", "p")
    ha2 = sip.md5_hex("REGISTER:sip:r")
    assert sip.digest_response(ha1=ha1, method="REGISTER", uri="sip:r", nonce="n") == sip.md5_hex(f"{ha1}:n:{ha2}")
    assert sip.digest_response(ha1=ha1, method="REGISTER", uri="sip:r", nonce="n", qop="auth", cnonce="c") != \
        sip.digest_response(ha1=ha1, method="REGISTER", uri="sip:r", nonce="n")


def test_a_kamailio_challenge_is_parsed_and_answered() -> None:
    header = 'Digest realm="vc.example.gov.vn", nonce="ZmFrZS1ub25jZQ==", qop="auth", opaque="x,y", algorithm=MD5'
    challenge = sip.parse_challenge(header)
    assert challenge == {"realm": "vc.example.gov.vn", "nonce": "ZmFrZS1ub25jZQ==", "qop": "auth", "opaque": "x,y",
                         "algorithm": "MD5"}
    value = sip.authorization(challenge, username="an-hiep", password="secret", method="REGISTER",
                              uri="sip:vc.example.gov.vn", cnonce="abc")
    fields = sip.parse_challenge(value)
    expected = sip.digest_response(ha1=sip.digest_ha1("an-hiep", "vc.example.gov.vn", "secret"), method="REGISTER",
                                   uri="sip:vc.example.gov.vn", nonce="ZmFrZS1ub25jZQ==", qop="auth", nc="00000001",
                                   cnonce="abc")
    assert fields["response"] == expected and fields["qop"] == "auth" and fields["nc"] == "00000001"
    assert fields["username"] == "an-hiep" and fields["opaque"] == "x,y"


@pytest.mark.parametrize("header", ['Basic realm="x"', 'Digest realm="x"', "Digest nonce=", 'Digest realm="x" nonce'])
def test_bad_challenges_are_refused(header: str) -> None:
    with pytest.raises(sip.SipError):
        sip.parse_challenge(header)


def test_other_algorithms_and_qops_are_refused() -> None:
    with pytest.raises(sip.SipError):
        sip.authorization({"realm": "r", "nonce": "n", "algorithm": "SHA-256"}, username="u", password="p",
                          method="REGISTER", uri="sip:r", cnonce="c")
    with pytest.raises(sip.SipError):
        sip.authorization({"realm": "r", "nonce": "n", "qop": "auth-int"}, username="u", password="p",
                          method="REGISTER", uri="sip:r", cnonce="c")


# ---- messages -----------------------------------------------------------------------------------------------------
OK = (b"SIP/2.0 200 OK\r\nVia: SIP/2.0/TLS 10.95.44.170:40000;branch=z9hG4bKx;rport=40000\r\n"
      b"From: <sip:an-hiep@vc.x>;tag=1\r\nTo: <sip:an-hiep@vc.x>;tag=2\r\ni: abc\r\nCSeq: 2 REGISTER\r\n"
      b"m: <sip:an-hiep@10.95.44.170:5060>;expires=120\r\nServer: egov-vc\r\n\tcontinued\r\nContent-Length: 4\r\n"
      b"\r\nbodyEXTRA")


def test_a_response_is_parsed_with_compact_and_folded_headers() -> None:
    response = sip.parse_response(OK)
    assert (response.status, response.reason) == (200, "OK")
    assert response.header("call-id") == "abc" and response.header("CSeq") == "2 REGISTER"
    assert response.headers["contact"] == ["<sip:an-hiep@10.95.44.170:5060>;expires=120"]
    assert response.header("server") == "egov-vc continued"
    assert response.body == b"body"
    for bad in (b"INVITE sip:x SIP/2.0\r\n\r\n", b"SIP/2.0 200 OK\r\nno colon\r\n\r\n", b"SIP/2.0 200 OK\r\n"):
        with pytest.raises(sip.SipError):
            sip.parse_response(bad)


def test_a_stream_is_split_into_messages() -> None:
    first, rest = sip.split_stream(b"\r\n\r\n" + OK[:-5] + OK[:40])
    assert first == OK[:-5] and rest == OK[:40]
    assert sip.split_stream(rest) == (None, rest)
    assert sip.split_stream(OK[:-7]) == (None, OK[:-7])            # the body is not complete yet


def test_a_register_request_is_well_formed() -> None:
    data = sip.register_request(user="an-hiep", domain="vc.x", local="10.95.44.170", local_port=40000,
                                transport="tls", call_id="c@h", from_tag="t", cseq=2, expires=0, contact_port=5060,
                                auth='Digest username="an-hiep"')
    text = data.decode()
    assert text.startswith("REGISTER sip:vc.x SIP/2.0\r\n") and text.endswith("Content-Length: 0\r\n\r\n")
    lines = text.split("\r\n")
    assert any(line.startswith("Via: SIP/2.0/TLS 10.95.44.170:40000;branch=z9hG4bK") and line.endswith(";rport")
               for line in lines)
    for expected in ("CSeq: 2 REGISTER", "Expires: 0", "Contact: <sip:an-hiep@10.95.44.170:5060>",
                     "From: <sip:an-hiep@vc.x>;tag=t", "To: <sip:an-hiep@vc.x>", "Call-ID: c@h",
                     'Authorization: Digest username="an-hiep"'):
        assert expected in lines


# ---- the REGISTER client against a fake registrar ----------------------------------------------------------------
REALM = "vc.test"


def _headers(request: bytes) -> dict[str, str]:
    lines = request.decode().split("\r\n\r\n")[0].split("\r\n")[1:]
    return {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}


def _registrar_answer(request: bytes, password: str, *, forbid: bool = False) -> bytes:
    """What the lab's Kamailio does: 403 for a forbidden source, else a challenge until the digest is right."""
    h = _headers(request)
    common = (f"Via: {h['via']}\r\nFrom: {h['from']}\r\nTo: {h['to']};tag=x\r\nCall-ID: {h['call-id']}\r\n"
              f"CSeq: {h['cseq']}\r\n")
    if forbid:
        return f"SIP/2.0 403 Forbidden: not from the site's network\r\n{common}Content-Length: 0\r\n\r\n".encode()
    if "authorization" in h:
        auth = sip.parse_challenge(h["authorization"])
        good = sip.digest_response(ha1=sip.digest_ha1(auth["username"], REALM, password), method="REGISTER",
                                   uri=auth["uri"], nonce=auth["nonce"], qop=auth.get("qop", ""), nc=auth.get("nc", ""),
                                   cnonce=auth.get("cnonce", ""))
        if auth["response"] == good and auth["nonce"] == "n1":
            return (f"SIP/2.0 200 OK\r\n{common}Contact: {h['contact']};expires={h['expires']}\r\n"
                    "Content-Length: 0\r\n\r\n").encode()
    return (f"SIP/2.0 401 Unauthorized\r\n{common}WWW-Authenticate: Digest realm=\"{REALM}\", nonce=\"n1\", "
            f"qop=\"auth\"\r\nContent-Length: 0\r\n\r\n").encode()


@pytest.fixture
def udp_registrar() -> Iterator[Callable[..., tuple[int, list[bytes]]]]:
    sockets: list[socket.socket] = []

    def start(password: str = "right", *, silent: bool = False, forbid: bool = False) -> tuple[int, list[bytes]]:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.2)
        sockets.append(sock)
        seen: list[bytes] = []

        def serve() -> None:
            while sock.fileno() >= 0:
                try:
                    data, peer = sock.recvfrom(65535)
                except OSError:
                    continue
                seen.append(data)
                if not silent:
                    sock.sendto(b"SIP/2.0 100 Trying\r\nCSeq: 0 X\r\nContent-Length: 0\r\n\r\n", peer)
                    sock.sendto(_registrar_answer(data, password, forbid=forbid), peer)
        threading.Thread(target=serve, daemon=True).start()
        return int(sock.getsockname()[1]), seen

    yield start
    for sock in sockets:
        sock.close()


def _register(port: int, password: str = "right", transport: str = "udp", timeout: float = 3) -> dict[str, Any]:
    return sip.register({"server": "127.0.0.1", "port": port, "transport": transport, "user": "an-hiep",
                         "password": password, "domain": REALM, "local": "127.0.0.1", "timeout": timeout})


def test_register_answers_the_challenge_and_is_accepted(udp_registrar: Callable[..., tuple[int, list[bytes]]]) -> None:
    port, seen = udp_registrar()
    result = _register(port)
    assert result["statuses"] == [401, 200] and result["final"] == 200 and result["answered"], result
    assert result["realm"] == REALM and result["contacts"], result
    assert len(seen) == 2 and b"Authorization: Digest" in seen[1] and b"Authorization" not in seen[0]


def test_a_wrong_password_ends_at_the_second_challenge(udp_registrar: Callable[..., tuple[int, list[bytes]]]) -> None:
    port, _ = udp_registrar()
    result = _register(port, password="wrong")
    assert result["statuses"] == [401, 401] and result["final"] == 401, result


def test_a_forbidden_account_gets_no_challenge(udp_registrar: Callable[..., tuple[int, list[bytes]]]) -> None:
    port, seen = udp_registrar(forbid=True)
    result = _register(port)
    assert result["statuses"] == [403] and "network" in result["reasons"][0] and len(seen) == 1, result


def test_no_answer_is_reported_as_such_with_the_retransmissions(
        udp_registrar: Callable[..., tuple[int, list[bytes]]]) -> None:
    port, seen = udp_registrar(silent=True)
    started = time.monotonic()
    result = _register(port, timeout=2.0)
    assert not result["answered"] and result["final"] is None and result["statuses"] == [], result
    assert result["sent"] == 3 == len(seen), result                      # at 0, 0.5 and 1.5 s (timer A)
    assert 1.9 < time.monotonic() - started < 3.5


def test_register_over_tcp_reads_the_stream() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def serve() -> None:
        conn, _ = server.accept()
        buffer = b""
        with conn:
            for _ in range(2):
                message = None
                while message is None:
                    buffer += conn.recv(65535)
                    message, buffer = sip.split_stream(buffer)
                answer = _registrar_answer(message, "right")
                conn.sendall(b"\r\n\r\n" + answer[:30])               # keepalive CRLFs, then a split response
                time.sleep(0.05)
                conn.sendall(answer[30:])
    threading.Thread(target=serve, daemon=True).start()
    try:
        result = _register(port, transport="tcp")
    finally:
        server.close()
    assert result["statuses"] == [401, 200], result


def test_a_refused_connection_is_reported() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()                                                        # nothing listens there now
    result = _register(port, transport="tcp")
    assert not result["answered"] and result["error"].startswith("connect: ConnectionRefusedError"), result
    assert sip.probe({"address": "127.0.0.1", "port": port})["result"] == "refused"
    with socket.create_server(("127.0.0.1", 0)) as listening:
        assert sip.probe({"address": "127.0.0.1", "port": listening.getsockname()[1]})["result"] == "connected"


# ---- frames --------------------------------------------------------------------------------------------------------
def _frame(src: str, dst: str, proto: int, dport: int, *, tagged: bool = False, ethertype: int = 0x0800) -> bytes:
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 0, 0, 64, proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
    l4 = struct.pack("!HHHH", 40000, dport, 8, 0)
    tag = struct.pack("!HH", 0x8100, 50) if tagged else b""
    eth = b"\x02" * 6 + b"\x04" * 6 + tag + struct.pack("!H", ethertype)
    return eth + ip + l4


def test_frames_are_parsed_and_matched() -> None:
    parsed = sip.parse_frame(_frame("10.95.44.212", "10.94.3.20", 17, 5060))
    assert parsed == ("10.95.44.212", "10.94.3.20", 17, 5060)
    assert sip.parse_frame(_frame("10.95.44.212", "10.94.3.20", 6, 5061, tagged=True)) == \
        ("10.95.44.212", "10.94.3.20", 6, 5061)
    assert sip.parse_frame(_frame("1.1.1.1", "2.2.2.2", 17, 53, ethertype=0x86DD)) is None
    assert sip.parse_frame(b"\x00" * 10) is None
    want = {"src": "10.95.44.212", "dst": "10.94.3.20", "proto": 17, "dport": 5060}
    assert sip.frame_matches(parsed, want)
    for other in (("10.95.44.170", "10.94.3.20", 17, 5060), ("10.95.44.212", "10.94.3.20", 17, 5061),
                  ("10.95.44.212", "10.94.3.20", 6, 5060), ("10.95.44.212", "10.94.3.21", 17, 5060), None):
        assert not sip.frame_matches(other, want)


# ---- RTP -----------------------------------------------------------------------------------------------------------
def test_rtp_round_trips_and_parses_csrc_extension_and_padding() -> None:
    packet = rtp.build_rtp(seq=65535 + 2, timestamp=2**32 + 5, ssrc=0xDEADBEEF, payload_type=111, payload=b"opus",
                           marker=True)
    parsed = rtp.parse_rtp(packet)
    assert (parsed.version, parsed.marker, parsed.payload_type, parsed.seq, parsed.timestamp, parsed.ssrc,
            parsed.payload) == (2, True, 111, 1, 5, 0xDEADBEEF, b"opus")
    header = struct.pack("!BBHII", 0x80 | 0x20 | 0x10 | 2, 111, 7, 8, 9) + struct.pack("!II", 1, 2)
    extension = struct.pack("!HH", 0xBEDE, 1) + b"\x10\x7f\x00\x00"
    parsed = rtp.parse_rtp(header + extension + b"data" + b"\x00\x00\x03")
    assert parsed.csrc == (1, 2) and parsed.payload == b"data" and parsed.seq == 7


@pytest.mark.parametrize("data", [b"\x80" * 11, struct.pack("!BBHII", 0x40, 0, 0, 0, 0),
                                  struct.pack("!BBHII", 0x83, 0, 0, 0, 0) + b"\x00" * 4,
                                  struct.pack("!BBHII", 0xA0, 0, 0, 0, 0) + b"\x09"])
def test_malformed_rtp_is_refused(data: bytes) -> None:
    with pytest.raises(rtp.RtpError):
        rtp.parse_rtp(data)


def test_payload_types_above_127_are_refused() -> None:
    with pytest.raises(rtp.RtpError):
        rtp.build_rtp(seq=0, timestamp=0, ssrc=0, payload_type=128, payload=b"")


def test_the_tone_level_is_the_amplitude_at_its_frequency_only() -> None:
    samples = rtp.tone(600, 16000, 0, 320, 8000)
    assert rtp.level(samples, 600, 16000) == pytest.approx(8000, rel=0.01)
    assert rtp.level(samples, 1400, 16000) < 1
    assert rtp.level([0] * 320, 600, 16000) == 0 and rtp.level([], 600, 16000) == 0
    assert rtp.scheduled_tone([[1.0, 3.5, 600]], 0.99) == 0 and rtp.scheduled_tone([[1.0, 3.5, 600]], 1.0) == 600
    frames = [[0.5, 1.0, 9.0], [1.1, 2.0, 8.0], [1.2, 3.0, 7.0], [1.3, 100.0, 6.0], [2.0, 5.0, 5.0]]
    assert rtp.window_level(frames, 0, 1.0, 2.0) == (3.0, 3)           # [start, end): 2.0 is out
    assert rtp.window_level(frames, 1, 1.0, 1.25) == (7.5, 2)
    assert rtp.window_level(frames, 0, 3.0, 4.0) == (0.0, 0)


def _opus() -> rtp.Opus:
    try:
        return rtp.Opus(16000)
    except rtp.RtpError as exc:
        pytest.skip(str(exc))


def test_opus_carries_a_tone_and_silence() -> None:
    codec = _opus()
    try:
        levels = []
        for i in range(25):
            decoded = codec.decode(codec.encode(rtp.tone(600, 16000, i * 320, 320, 8000)))
            assert len(decoded) == 320
            levels.append((rtp.level(decoded, 600, 16000), rtp.level(decoded, 1400, 16000)))
        assert all(a > 6000 and b < 200 for a, b in levels[5:]), levels
        with pytest.raises(rtp.RtpError):
            codec.encode([0] * 100)
    finally:
        codec.close()
    fresh = _opus()
    try:
        quiet = [max(map(abs, fresh.decode(fresh.encode([0] * 320)))) for _ in range(10)]
        assert max(quiet) < 50, quiet
    finally:
        fresh.close()


def test_the_exchange_hears_the_fake_mixer_only_while_it_speaks() -> None:
    """The exchange against a fake participant on loopback that answers each packet with a 1400 Hz frame
    between 0.4 and 0.8 s of the run and silence otherwise (as the AudioBridge mix minus one's own)."""
    _opus().close()
    mixer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    mixer.bind(("127.0.0.1", 0))
    mixer.settimeout(0.2)
    start = time.time() + 0.3
    sent_back: list[int] = []

    def serve() -> None:
        codec = rtp.Opus(16000)
        n = 0
        while time.time() < start + 2.0:
            try:
                data, peer = mixer.recvfrom(2048)
            except OSError:
                continue
            rtp.parse_rtp(data)
            t = time.time() - start
            pcm = rtp.tone(1400, 16000, n * 320, 320, 8000) if 0.4 <= t < 0.8 else [0] * 320
            mixer.sendto(rtp.build_rtp(seq=n, timestamp=n * 320, ssrc=7, payload_type=111, payload=codec.encode(pcm)),
                         peer)
            n += 1
            sent_back.append(n)
        codec.close()
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    local_port = probe.getsockname()[1]
    probe.close()
    result = rtp.exchange({"local": ["127.0.0.1", local_port], "remote": ["127.0.0.1", mixer.getsockname()[1]],
                           "start_at": start, "duration": 1.2, "grace": 0.2, "tones": [[0.0, 0.4, 600]],
                           "listen": [600, 1400]})
    thread.join(timeout=5)
    mixer.close()
    assert result["sent"] == 60 and result["received"] >= 50 and result["payload_types"] == [111], \
        {k: v for k, v in result.items() if k != "frames"}
    assert result["decode_errors"] == 0 and result["ssrcs"] == [7]
    heard, n = rtp.window_level(result["frames"], 1, 0.5, 0.8)
    silent, m = rtp.window_level(result["frames"], 1, 0.9, 1.2)
    own, _ = rtp.window_level(result["frames"], 0, 0.1, 0.4)
    assert n >= 10 and m >= 10
    assert heard > 6000 and silent < 200 and own < 200, (heard, silent, own)
    json.dumps(result)                                                   # the CLI prints it


# ---- the browser page ---------------------------------------------------------------------------------------------
def test_sdp_candidates_are_read() -> None:
    lines = ["a=candidate:1 1 udp 2015363327 10.94.3.20 20012 typ host",
             "a=candidate:842163049 1 UDP 1677729535 10.95.44.170 51515 typ srflx raddr 0.0.0.0 rport 0",
             "a=candidate:2 1 tcp 1 abcd.local 9 typ host", "m=audio 9 UDP/TLS/RTP/SAVPF 111"]
    assert candidates(lines) == [{"proto": "udp", "ip": "10.94.3.20", "port": 20012, "type": "host"},
                                 {"proto": "UDP", "ip": "10.95.44.170", "port": 51515, "type": "srflx"}]


def test_the_page_carries_its_configuration() -> None:
    page = page_for({"janus": "https://vc.x/janus", "room": 1000, "pin": "123", "display": "d"}).decode()
    assert 'window.EGOV_CONFIG = {"janus": "https://vc.x/janus", "room": 1000, "pin": "123", "display": "d"};' in page
    assert page.count("<script>") == 1 and "navigator.mediaDevices.getUserMedia" in page
    # the wrong PIN is tried (and must fail) before the right one
    assert page.index('join(C.pin + "0")') < page.index("join(C.pin)")

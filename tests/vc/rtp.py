"""RTP with Opus audio for the video-conference lab tests (issue 15): build, parse, send, count, listen.

    ip netns exec egl-vc-<slug> python -m tests.vc.rtp exchange '<json request>'

The sites' endpoints join the AudioBridge as plain-RTP participants (egov-vc-join announces the
endpoint's address and gets the MCU's); the room mixes Opus (the plugin's default codec for a
participant; egov-vc-join announces payload type 111). `exchange` binds the endpoint's announced RTP
port, sends one 20 ms Opus frame every 20 ms from it to the MCU's RTP address (symmetric RTP: the
MCU's packets come back as the return of this flow through the site and DC firewalls) and decodes
every packet it receives. What it sends follows a schedule: silence, or a pure tone of a given
frequency in given intervals. For each received frame it records the arrival time and the tone
amplitude at each listened frequency (Goertzel), so the test can tell WHOSE audio came back and WHEN.

Request: {"local": [ip, port], "remote": [ip, port], "payload_type": 111, "start_at": <epoch s>,
          "duration": <s of sending>, "grace": <s of listening after>, "rate": 16000,
          "amplitude": 8000, "tones": [[from_s, to_s, hz], ...], "listen": [hz, ...]}
Result: {"sent", "received", "not_rtp", "decode_errors", "payload_types", "ssrcs",
         "frames": [[t_s, level_at_listen[0], level_at_listen[1], ...], ...]}

Opus comes from the controller's libopus (libopus0, a dependency of Debian's chromium) via ctypes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import math
import secrets
import select
import socket
import statistics
import struct
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

FRAME_SECONDS = 0.02
OPUS_APPLICATION_VOIP = 2048


class RtpError(Exception):
    """A malformed RTP packet, or no Opus library."""


# ---- RTP (RFC 3550 §5.1) -------------------------------------------------------------------------------
@dataclass(frozen=True)
class RtpPacket:
    version: int
    marker: bool
    payload_type: int
    seq: int
    timestamp: int
    ssrc: int
    csrc: tuple[int, ...]
    payload: bytes


def build_rtp(*, seq: int, timestamp: int, ssrc: int, payload_type: int, payload: bytes,
              marker: bool = False) -> bytes:
    """Version 2, no padding, no extension, no CSRC."""
    if not 0 <= payload_type <= 127:
        raise RtpError(f"payload type {payload_type} out of 0-127")
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | payload_type, seq & 0xFFFF,
                       timestamp & 0xFFFFFFFF, ssrc & 0xFFFFFFFF) + payload


def parse_rtp(data: bytes) -> RtpPacket:
    """A received packet: the fixed header, CSRCs, a header extension and padding taken off the payload."""
    if len(data) < 12:
        raise RtpError(f"{len(data)} bytes: shorter than an RTP header")
    b0, b1, seq, timestamp, ssrc = struct.unpack("!BBHII", data[:12])
    version = b0 >> 6
    if version != 2:
        raise RtpError(f"RTP version {version}")
    count = b0 & 0x0F
    offset = 12 + 4 * count
    if len(data) < offset:
        raise RtpError("truncated CSRC list")
    csrc = struct.unpack(f"!{count}I", data[12:offset]) if count else ()
    if b0 & 0x10:                                            # header extension
        if len(data) < offset + 4:
            raise RtpError("truncated header extension")
        words = struct.unpack("!H", data[offset + 2:offset + 4])[0]
        offset += 4 + 4 * words
        if len(data) < offset:
            raise RtpError("truncated header extension")
    end = len(data)
    if b0 & 0x20:                                            # padding: its length in the last byte
        pad = data[-1]
        if pad == 0 or offset + pad > end:
            raise RtpError(f"bad padding length {pad}")
        end -= pad
    return RtpPacket(version=version, marker=bool(b1 & 0x80), payload_type=b1 & 0x7F, seq=seq,
                     timestamp=timestamp, ssrc=ssrc, csrc=tuple(csrc), payload=data[offset:end])


# ---- Opus (libopus through ctypes) -------------------------------------------------------------------------
def _libopus() -> ctypes.CDLL:
    name = ctypes.util.find_library("opus") or "libopus.so.0"
    try:
        lib = ctypes.CDLL(name)
    except OSError as exc:
        raise RtpError(f"no libopus ({name}): install libopus0") from exc
    lib.opus_encoder_create.restype = ctypes.c_void_p
    lib.opus_encoder_create.argtypes = [ctypes.c_int32, ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
    lib.opus_encode.restype = ctypes.c_int32
    lib.opus_encode.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int16), ctypes.c_int,
                                ctypes.c_char_p, ctypes.c_int32]
    lib.opus_encoder_destroy.argtypes = [ctypes.c_void_p]
    lib.opus_decoder_create.restype = ctypes.c_void_p
    lib.opus_decoder_create.argtypes = [ctypes.c_int32, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
    lib.opus_decode.restype = ctypes.c_int
    lib.opus_decode.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int32, ctypes.POINTER(ctypes.c_int16),
                                ctypes.c_int, ctypes.c_int]
    lib.opus_decoder_destroy.argtypes = [ctypes.c_void_p]
    return lib


class Opus:
    """A mono Opus encoder and decoder at `rate` (the AudioBridge room's sampling rate)."""

    MAX_FRAME = 5760                                          # 120 ms at 48 kHz: the most one packet holds

    def __init__(self, rate: int = 16000) -> None:
        self.rate = rate
        self.lib = _libopus()
        error = ctypes.c_int(0)
        self.encoder = self.lib.opus_encoder_create(rate, 1, OPUS_APPLICATION_VOIP, ctypes.byref(error))
        if error.value != 0 or not self.encoder:
            raise RtpError(f"opus_encoder_create({rate}) failed: {error.value}")
        self.decoder = self.lib.opus_decoder_create(rate, 1, ctypes.byref(error))
        if error.value != 0 or not self.decoder:
            raise RtpError(f"opus_decoder_create({rate}) failed: {error.value}")

    @property
    def frame_samples(self) -> int:
        return int(self.rate * FRAME_SECONDS)

    def encode(self, pcm: Sequence[int]) -> bytes:
        if len(pcm) != self.frame_samples:
            raise RtpError(f"{len(pcm)} samples: a 20 ms frame is {self.frame_samples}")
        samples = (ctypes.c_int16 * len(pcm))(*pcm)
        out = ctypes.create_string_buffer(1500)
        size = self.lib.opus_encode(self.encoder, samples, len(pcm), out, 1500)
        if size < 0:
            raise RtpError(f"opus_encode failed: {size}")
        return out.raw[:size]

    def decode(self, payload: bytes) -> list[int]:
        pcm = (ctypes.c_int16 * self.MAX_FRAME)()
        count = self.lib.opus_decode(self.decoder, payload, len(payload), pcm, self.MAX_FRAME, 0)
        if count < 0:
            raise RtpError(f"opus_decode failed: {count}")
        return list(pcm[:count])

    def close(self) -> None:
        self.lib.opus_encoder_destroy(self.encoder)
        self.lib.opus_decoder_destroy(self.decoder)


# ---- audio ------------------------------------------------------------------------------------------------
def tone(freq: float, rate: int, start: int, count: int, amplitude: float) -> list[int]:
    """`count` samples of a sine of `freq` Hz from sample `start` (phase-continuous across frames)."""
    step = 2 * math.pi * freq / rate
    return [round(amplitude * math.sin(step * (start + i))) for i in range(count)]


def level(samples: Sequence[int], freq: float, rate: int) -> float:
    """The amplitude of the `freq` Hz component (Goertzel): a pure on-bin sine of amplitude A gives A."""
    if not samples:
        return 0.0
    coeff = 2 * math.cos(2 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    power = max(0.0, s1 * s1 + s2 * s2 - coeff * s1 * s2)
    return 2 * math.sqrt(power) / len(samples)


def scheduled_tone(tones: Sequence[Sequence[float]], t: float) -> float:
    """The frequency sent at `t` seconds (0: silence)."""
    for start, end, freq in tones:
        if start <= t < end:
            return float(freq)
    return 0.0


def window_level(frames: Sequence[Sequence[float]], index: int, start: float, end: float) -> tuple[float, int]:
    """Median level at listened frequency `index` of the frames received in [start, end), and their count."""
    values = [f[1 + index] for f in frames if start <= f[0] < end]
    return (statistics.median(values) if values else 0.0), len(values)


# ---- the exchange --------------------------------------------------------------------------------------------
def exchange(request: dict[str, Any]) -> dict[str, Any]:
    rate = int(request.get("rate", 16000))
    amplitude = float(request.get("amplitude", 8000))
    tones = request.get("tones", [])
    listen = [float(f) for f in request.get("listen", [])]
    payload_type = int(request.get("payload_type", 111))
    codec = Opus(rate)
    samples = codec.frame_samples
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((request["local"][0], int(request["local"][1])))
    sock.connect((request["remote"][0], int(request["remote"][1])))
    sock.setblocking(False)
    ssrc = secrets.randbits(32)
    seq0, ts0 = secrets.randbits(16), secrets.randbits(32)
    start = float(request.get("start_at") or time.time())
    duration = float(request["duration"])
    stop = start + duration + float(request.get("grace", 1.0))
    result: dict[str, Any] = {"sent": 0, "received": 0, "not_rtp": 0, "decode_errors": 0, "send_errors": 0,
                              "payload_types": [], "ssrcs": [], "frames": []}
    types: set[int] = set()
    sources: set[int] = set()
    time.sleep(max(0.0, start - time.time()))
    frame = 0
    try:
        while (now := time.time()) < stop:
            due = start + frame * FRAME_SECONDS
            if due <= now and frame * FRAME_SECONDS < duration:
                t = frame * FRAME_SECONDS
                freq = scheduled_tone(tones, t)
                pcm = tone(freq, rate, frame * samples, samples, amplitude) if freq else [0] * samples
                packet = build_rtp(seq=seq0 + frame, timestamp=ts0 + frame * samples, ssrc=ssrc,
                                   payload_type=payload_type, payload=codec.encode(pcm), marker=frame == 0)
                try:
                    sock.send(packet)
                    result["sent"] += 1
                except OSError:                              # an ICMP error of an earlier packet
                    result["send_errors"] += 1
                frame += 1
                continue
            next_due = start + frame * FRAME_SECONDS if frame * FRAME_SECONDS < duration else stop
            readable, _, _ = select.select([sock], [], [], max(0.0, min(next_due, stop) - time.time()))
            if not readable:
                continue
            while True:
                try:
                    data = sock.recv(2048)
                except (BlockingIOError, ConnectionRefusedError):
                    break
                arrived = time.time() - start
                try:
                    packet_in = parse_rtp(data)
                except RtpError:
                    result["not_rtp"] += 1
                    continue
                result["received"] += 1
                types.add(packet_in.payload_type)
                sources.add(packet_in.ssrc)
                try:
                    pcm_in = codec.decode(packet_in.payload)
                except RtpError:
                    result["decode_errors"] += 1
                    continue
                result["frames"].append([round(arrived, 3), *(round(level(pcm_in, f, rate), 1) for f in listen)])
    finally:
        sock.close()
        codec.close()
    result["payload_types"] = sorted(types)
    result["ssrcs"] = sorted(sources)
    return result


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "exchange":
        print("usage: python -m tests.vc.rtp exchange '<json request>'", file=sys.stderr)
        return 2
    print(json.dumps(exchange(json.loads(argv[1]))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

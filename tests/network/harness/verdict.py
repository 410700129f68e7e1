"""Where a traffic-matrix probe was stopped, and whether that is what the model says (pure, unit-tested).

Evidence per probe:
- `delivered`: the AF_PACKET sniffer on the DC host saw the SYN / datagram arrive. It sits ahead of
  the host's own input firewall (`table inet host_firewall`), so `delivered=False` means the DC/site
  firewalls (`table inet egov_policy`, log prefix "egov-deny") stopped it, and `delivered=True` means
  they let it through;
- `result` (probe.py): "connected" (TCP handshake / UDP reply: the listener answered), "refused"
  (TCP RST / ICMP port unreachable: the host kernel answered, no listener), "timeout" (dropped
  silently: a firewall drop — the network's when not delivered, the host firewall's when delivered),
  "unreachable" (ICMP host/net unreachable or admin-prohibited on the way);
- `verifiable`: the listener answers probes (our TCP listener / UDP echo, or a real service that
  replies to the probe's payload). A real UDP service that never replies cannot prove arrival.
"""

from __future__ import annotations

NETWORK = "the DC/site firewall"
HOST = "the host firewall"


def stopped_by(delivered: bool, result: str) -> str:
    """Who stopped a probe that did not connect."""
    if result == "connected":
        return ""
    if not delivered:
        return NETWORK
    if result == "timeout":
        return HOST  # arrived (sniffer) and silently dropped: inet host_firewall's default deny
    if result == "refused":
        return "the host (no listener)"
    return f"the host ({result})"


def judge(allowed: bool, delivered: bool, result: str, verifiable: bool) -> str:
    """'' when the probe agrees with the model, else the reason (names where it was stopped)."""
    if allowed:
        if not delivered:
            return f"ALLOWED but stopped by {NETWORK} ({result})"
        if result == "connected":
            return ""
        if not verifiable:
            return ""  # delivered; a silent real UDP service cannot say more
        return f"ALLOWED, passed {NETWORK}, but stopped by {stopped_by(delivered, result)} (port drift?)"
    if result == "connected":
        return "DENIED but connected"
    if delivered:
        return f"DENIED but passed {NETWORK} (stopped only by {stopped_by(delivered, result)})"
    return ""

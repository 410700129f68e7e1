"""The flow matrix resolved: listener names turned into ports, `to: dc` into one flow per service.

The model states every port once, in ``services.<name>.listeners`` (and ``host_listeners`` for the
sockets every DC host has); a flow names listeners. After :func:`resolve_flows`, every consumer
(device policy, security groups, host firewalls, the traffic-matrix tests) reads ``flow.ports`` of
flows whose ``to`` is a service.
"""

from __future__ import annotations

from collections.abc import Callable

from egov.model.schema import EVERY_DC_HOST, PORT_RE, Flow, ProvinceFile

# (key path, message) -> None: the loader's collector, bound to the model file and its lines
Report = Callable[[tuple[object, ...], str], None]


def _expand(port: str) -> set[tuple[str, int]]:
    match = PORT_RE.match(port)
    if not match:
        return set()
    low = int(match.group(2))
    return {(match.group(1), number) for number in range(low, int(match.group(4) or low) + 1)}


def listeners_of(pf: ProvinceFile, service: str) -> dict[str, list[str]]:
    """A service's own listeners, then those every DC host has."""
    return {**pf.services[service].listeners, **pf.host_listeners}


def check_listeners(pf: ProvinceFile, report: Report) -> None:
    """No port in two listeners of one host; no listener name shadowing a host listener."""
    for name, service in pf.services.items():
        seen: dict[tuple[str, int], str] = {}
        for listener, ports in listeners_of(pf, name).items():
            if listener in service.listeners and listener in pf.host_listeners:
                report(("services", name, "listeners", listener),
                       f"listener {listener!r} is also a host listener (host_listeners.{listener}): rename it")
            for port in ports:
                clash = sorted({seen[p] for p in _expand(port) if p in seen and seen[p] != listener})
                if clash:
                    where = ("services", name, "listeners", listener) if listener in service.listeners \
                        else ("host_listeners", listener)
                    report(where, f"{port} of {name} is already the port of listener {clash[0]!r}")
                for item in _expand(port):
                    seen.setdefault(item, listener)


def resolve_flows(pf: ProvinceFile, report: Report) -> ProvinceFile:
    """The model with every flow's listeners resolved into ports; problems go to ``report``."""
    resolved: list[Flow] = []
    reached: set[tuple[str, str]] = set()
    for index, flow in enumerate(pf.flows):
        if flow.to == EVERY_DC_HOST:
            targets = list(pf.services)
            for l_index, listener in enumerate(flow.listeners):
                if listener not in pf.host_listeners:
                    known = ", ".join(pf.host_listeners) or "none"
                    report(("flows", index, "listeners", l_index),
                           f"`to: {EVERY_DC_HOST}` takes a listener of host_listeners ({known}), not {listener!r}")
        elif flow.to in pf.services:
            targets = [flow.to]
        else:
            continue    # an unknown service: reported by the reference checks
        for service in targets:
            known_listeners = listeners_of(pf, service)
            ports: list[str] = []
            for l_index, listener in enumerate(flow.listeners):
                if listener not in known_listeners:
                    if flow.to != EVERY_DC_HOST:
                        names = ", ".join(known_listeners) or "none"
                        report(("flows", index, "listeners", l_index),
                               f"service {service!r} has no listener {listener!r} (its listeners: {names})")
                    continue
                reached.add((service, listener))
                ports += [p for p in known_listeners[listener] if p not in ports]
            if ports:
                resolved.append(flow.model_copy(update={
                    "to": service, "ports": tuple(ports),
                    "expanded_from": EVERY_DC_HOST if flow.to == EVERY_DC_HOST else None}))
    for name, spec in pf.services.items():
        for listener in spec.listeners:
            if (name, listener) not in reached:
                report(("services", name, "listeners", listener),
                       f"no flow reaches listener {listener!r} of {name}: a port nothing may open is closed "
                       "(remove it) or needs its flow in `flows`")
    return pf.model_copy(update={"flows": resolved})

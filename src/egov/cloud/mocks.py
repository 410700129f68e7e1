"""Pulumi unit-test mocks that behave enough like OpenStack for plans, policies and hand-off tests.

Ids are deterministic (``<type>/<name>``), ports keep their fixed IPs, floating IPs come from
TEST-NET-3 (203.0.113.0/24) and load-balancer VIPs from the top of their subnet, so a plan is
the same on every run.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

import pulumi

FLOATING_POOL = ipaddress.IPv4Network("203.0.113.0/24")
EXTERNAL_NETWORK_ID = "external-network-id"


@dataclass
class RecordedResource:
    type: str
    name: str
    id: str
    inputs: dict[str, Any]     # wire names (camelCase), as a policy pack sees them
    state: dict[str, Any]      # inputs plus the computed values the mock returned

    @property
    def urn(self) -> str:
        return f"urn:pulumi:mock::mock::{self.type}::{self.name}"


class CloudMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[RecordedResource] = []
        self._next_floating = 10
        self._port_addresses: dict[str, str] = {}
        self._subnet_cidrs: dict[str, str] = {}
        self._next_vip: dict[str, int] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        if not args.custom:
            return None, {}
        resource_id = f"{args.typ.split(':')[-1].lower()}/{args.name}"
        state = dict(args.inputs)
        state.update(self._computed(args.typ, resource_id, args.inputs))
        self.resources.append(RecordedResource(type=args.typ, name=args.name, id=resource_id,
                                               inputs=dict(args.inputs), state=state))
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        if args.token == "openstack:networking/getNetwork:getNetwork":
            return {"id": EXTERNAL_NETWORK_ID, "name": args.args.get("name"), "external": True}, []
        raise NotImplementedError(f"no mock for invoke {args.token}")

    def _computed(self, typ: str, resource_id: str, inputs: dict[str, Any]) -> dict[str, Any]:
        if typ == "openstack:networking/subnet:Subnet":
            self._subnet_cidrs[resource_id] = inputs["cidr"]
            return {}
        if typ == "openstack:networking/port:Port":
            address = inputs.get("fixedIps", [{}])[0].get("ipAddress", "")
            self._port_addresses[resource_id] = address
            return {"allFixedIps": [address]}
        if typ == "openstack:compute/instance:Instance":
            port = inputs.get("networks", [{}])[0].get("port", "")
            return {"accessIpV4": self._port_addresses.get(port, "")}
        if typ == "openstack:networking/floatingIp:FloatingIp":
            address = str(FLOATING_POOL.network_address + self._next_floating)
            self._next_floating += 1
            return {"address": address}
        if typ == "openstack:loadbalancer/loadBalancer:LoadBalancer":
            if inputs.get("vipAddress"):    # a requested VIP is kept, as Octavia does
                return {"vipAddress": inputs["vipAddress"], "vipPortId": f"port/{resource_id}-vip"}
            subnet = inputs.get("vipSubnetId", "")
            offset = self._next_vip.get(subnet, 200)
            self._next_vip[subnet] = offset + 1
            network = ipaddress.IPv4Network(self._subnet_cidrs.get(subnet, "192.0.2.0/24"))
            return {"vipAddress": str(network.network_address + offset), "vipPortId": f"port/{resource_id}-vip"}
        if typ == "random:index/randomPassword:RandomPassword":
            return {"result": f"mock-password-{resource_id}"}
        return {}

"""Render each device's full intended configuration from the province model (Jinja2 per platform)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

import jinja2

from egov.model import Province
from egov.network import policy as pol
from egov.network import registry
from egov.network.credentials import Credentials, ascii_fold, cisco_type9
from egov.network.errors import DeviceError, ErrorKind
from egov.network.inventory import Device
from egov.network.paths import network_dir


class Vlan(TypedDict):
    """One VLAN of a switch context (the templates read vlan.id and vlan.name)."""

    id: int
    name: str


BANNER = "Authorized access only. {province} e-government network device {name}. All activity is logged."


@dataclass(frozen=True)
class Rendered:
    device: Device
    text: str
    template: str


class Renderer:
    def __init__(self, province: Province, credentials: Credentials, base: Path | None = None,
                 env: str = "production") -> None:
        self.province = province
        self.env_name = env
        self.credentials = credentials
        self.base = base or network_dir()
        self.platforms = registry.platforms(self.base)
        self.policy = registry.policy_data(self.base)
        self.switch_models = registry.registry_data(self.base)["switch_models"]
        self.env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(self.base / "templates")),
                                      undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                                      autoescape=False)

    def render(self, device: Device) -> Rendered:
        platform = self.platforms.get(device.platform)
        if platform is None:
            raise DeviceError(ErrorKind.UNKNOWN_PLATFORM, f"platform {device.platform!r} is not in the registry "
                              f"(known: {', '.join(sorted(self.platforms))})")
        template_name = platform.templates.get(device.kind)
        if template_name is None:
            raise DeviceError(ErrorKind.UNKNOWN_PLATFORM, f"platform {device.platform!r} has no {device.kind} template")
        path = f"{device.platform}/{template_name}"
        context = self.switch_context(device) if device.kind == "switch" else self.firewall_context(device)
        try:
            text = self.env.get_template(path).render(**context)
        except jinja2.TemplateError as exc:
            where = f" line {exc.lineno}" if isinstance(exc, jinja2.TemplateSyntaxError) else ""
            raise DeviceError(ErrorKind.TEMPLATE, f"{path}{where}: {exc.message or exc}") from exc
        return Rendered(device=device, text=text, template=path)

    # ---- switches -------------------------------------------------------------------------------
    def _dc_host(self, service: str) -> list[str]:
        return [str(h.address) for h in self.province.dc_hosts if h.service == service]

    def switch_context(self, device: Device) -> dict[str, Any]:
        adr = self.province.source.addressing
        creds = self.credentials
        if device.site is not None:
            site = device.site
            vlans: list[Vlan] = [{"id": v.vlan, "name": v.name} for v in site.vlans]
            mgmt_net = site.vlan("management").network
            model = self.switch_models[device.vars.get("switch_model", "access-24")]
            by_name = {v.name: v.vlan for v in site.vlans}
            firewall, peer, location = site.firewall_name, "", f"{site.name} ({site.code})"
        else:
            vlans = [{"id": seg.vlan, "name": name} for name, seg in adr.dc_segments.items()]
            vlans.append({"id": adr.wan.vlan, "name": "wan"})
            mgmt_net = adr.dc_segments["management"].prefix
            model = self.switch_models[device.vars.get("switch_model", "core-24")]
            by_name = {v["name"]: v["id"] for v in vlans}
            firewall, location = self.province.dc_firewall.name, f"{self.province.name} data centre"
            peer = f"dc-sw-{(device.index % self.province.source.devices.dc_core_switches) + 1:02d}"
        allowed = ",".join(_vlan_ranges(sorted(v["id"] for v in vlans)))
        interfaces = []
        for entry in model["ports"]:
            for name in registry.expand_ports(entry["range"]):
                description = entry.get("description", "").format(firewall=firewall, peer=peer)
                if entry.get("trunk"):
                    interfaces.append({"name": name, "mode": "trunk", "allowed": allowed, "description": description,
                                       "shutdown": False})
                else:
                    interfaces.append({"name": name, "mode": "access", "vlan": by_name[entry["vlan"]],
                                       "description": description or entry["vlan"], "shutdown": False})
        for name in model["unused"]:
            interfaces.append({"name": name, "mode": "none", "description": "unused", "shutdown": True})
        mgmt_addr = ipaddress.ip_address(device.vars.get("mgmt_address", "0.0.0.0"))
        if int(mgmt_addr) == 0:
            mgmt_addr = mgmt_net.network_address + (2 if device.site else 1 + device.index)
        snmp_secrets = creds.snmp or {"user": "egov-mon", "auth": "", "priv": ""}
        return {
            "hostname": device.name,
            "domain": self.province.domain,
            "users": [{"name": creds.switch.username, "privilege": 15,
                       "secret9": cisco_type9(creds.switch.password or "", self.province.slug)}],
            "enable_secret9": cisco_type9(creds.switch.enable or "", f"enable:{self.province.slug}"),
            "ntp_servers": self._dc_host("dns"),
            "syslog_host": self._dc_host("logs")[0],
            "snmp": {"group": "EGOV-RO", "view": "EGOV-VIEW", **snmp_secrets},
            "location": ascii_fold(location),
            "management_net": adr.dc_segments["management"].prefix,
            "banner": ascii_fold(BANNER.format(province=self.province.name, name=device.name)),
            "vlans": vlans,
            "interfaces": interfaces,
            "mgmt": {"vlan": by_name["management"], "address": mgmt_addr, "netmask": mgmt_net.netmask,
                     "gateway": mgmt_net.network_address + 1},
        }

    # ---- firewalls ------------------------------------------------------------------------------
    def firewall_context(self, device: Device) -> dict[str, Any]:
        policy = {**self.policy, **device.vars.get("policy_overrides", {})}
        if device.site is not None:
            rules = pol.site_rules(self.province, device.site, policy)
            rules += pol.site_management_rules(self.province, device.site, policy)
        else:
            rules = pol.dc_rules(self.province, policy, self.env_name)
        mgmt_net = device.vars.get("management_net", str(self.province.source.addressing.dc_segments["management"]
                                                          .prefix))
        management_ports = []
        by_proto: dict[str, list[tuple[int, int]]] = {}
        for port in policy["management_ports"]:
            proto, low, high = pol.parse_port(port)
            by_proto.setdefault(proto, []).append((low, high))
        for proto, ports in by_proto.items():
            management_ports.append({"proto": proto, "ports": pol.nft_ports(tuple(ports))})
        return {
            "hostname": device.name,
            "rules": [r.nft() for r in rules],
            "management_net": mgmt_net,
            "management_ports": management_ports,
            "deny_prefix": f"{policy['deny_log_prefix']} {device.name}",
            "deny_group": policy.get("deny_log_group"),
        }


def _vlan_ranges(ids: list[int]) -> list[str]:
    """IOS prints 3+ consecutive VLANs as a range."""
    out: list[list[int]] = []
    for vid in ids:
        if out and vid == out[-1][-1] + 1:
            out[-1].append(vid)
        else:
            out.append([vid])
    return [f"{r[0]}-{r[-1]}" if len(r) >= 3 else ",".join(map(str, r)) for r in out]

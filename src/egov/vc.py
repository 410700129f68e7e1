"""The video-conference rooms and endpoint accounts, derived from the model (issue 15).

``services.<mcu>.conference`` of the model (checked by egov.model.conference) gives the room
numbers, the ad-hoc range, the endpoints' host number and the provincial endpoints. From it:

- **accounts**: one per endpoint: the provincial endpoints (their department's code), then every
  district and commune (its site slug), in register order. Each has its address (host
  ``endpoint_host`` of its site's ``video_conference`` VLAN, or of
  ``addressing.provincial_video_conference`` for the provincial ones, one after the other), the
  network it must register from (the registrar refuses it from anywhere else) and the standing rooms it
  may join;
- **rooms**: the province room (every account invited), one per district (the district, its communes
  and the provincial endpoints invited), and the ad-hoc range (created at run time by the operators).

``conference`` is what the roles read (``egov_vc_conference`` in the generated services vars). The
credentials are not here: the roles generate them at run time (never in git).
"""

from __future__ import annotations

from typing import Any

from egov.model import Province
from egov.model.conference import SITE_VLAN, conference_service, district_room, endpoint_address


def accounts(province: Province) -> list[dict[str, Any]]:
    """Every endpoint account: provincial, then districts, then communes (register order)."""
    found = conference_service(province.source)
    if found is None:
        return []
    _, conf = found
    districts = {d.code: d for d in province.districts}
    province_room = conf.province_room
    all_district_rooms = [district_room(conf, d.slot) for d in province.districts]
    out: list[dict[str, Any]] = []
    block = province.source.addressing.provincial_video_conference
    names = {d.code: d.name for d in province.departments}
    for index, endpoint in enumerate(conf.provincial_endpoints):
        assert block is not None        # the loader refuses provincial endpoints without their block
        out.append({
            "user": endpoint.department, "name": endpoint.name, "kind": "provincial",
            "unit": endpoint.department, "unit_name": names.get(endpoint.department, endpoint.department),
            "district": None,
            "address": str(endpoint_address(block.prefix, conf.endpoint_host + index)),
            "network": str(block.prefix), "vlan": block.vlan,
            "rooms": [province_room, *all_district_rooms],
        })
    for site in province.sites:
        vlan = site.vlan(SITE_VLAN)
        district = districts[site.district_code]
        out.append({
            "user": site.slug, "name": site.name, "kind": site.kind,
            "unit": site.code, "unit_name": site.name,
            "district": district.slug,
            "address": str(endpoint_address(vlan.network, conf.endpoint_host)),
            "network": str(vlan.network), "vlan": vlan.vlan,
            "rooms": [province_room, district_room(conf, district.slot)],
        })
    return out


def rooms(province: Province, found_accounts: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The standing rooms: the province's, then one per district (register order)."""
    found = conference_service(province.source)
    if found is None:
        return []
    _, conf = found
    listed = accounts(province) if found_accounts is None else found_accounts

    def invited(room: int) -> list[str]:
        return [a["user"] for a in listed if room in a["rooms"]]
    out = [{"id": conf.province_room, "kind": "province", "name": province.short_name, "district": None,
            "invited": invited(conf.province_room)}]
    for district in province.districts:
        room = district_room(conf, district.slot)
        out.append({"id": room, "kind": "district", "name": district.name, "district": district.slug,
                    "invited": invited(room)})
    return out


def conference(province: Province) -> dict[str, Any] | None:
    """What the MCU and the endpoints are configured from (None: the model has no conference)."""
    found = conference_service(province.source)
    if found is None:
        return None
    service_name, conf = found
    labels = province.source.services[service_name].names
    listed = accounts(province)
    return {
        "service": service_name,
        # the SIP domain (the registrar's realm) and the name of the Janus API: the MCU's first DNS name
        "domain": f"{labels[0]}.{province.domain}" if labels else f"{service_name.replace('_', '-')}.{province.domain}",
        "rooms": rooms(province, listed),
        "adhoc_rooms": {"first": conf.adhoc_rooms.first, "last": conf.adhoc_rooms.first + conf.adhoc_rooms.count - 1,
                        "count": conf.adhoc_rooms.count},
        "accounts": listed,
    }

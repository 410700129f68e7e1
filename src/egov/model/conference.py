"""The video-conference section of the model (``services.<mcu>.conference``) checked against the rest.

The rooms and endpoint accounts are derived in :mod:`egov.vc`; what can be wrong in the file is
checked here, with the loader's collector (file, line, key path, problem):

- at most one service carries a ``conference`` section (the MCU);
- the provincial endpoints name known departments, each once, as many as the plan's
  ``facts.baseline_2016.vc_endpoints_provincial``, and fit ``addressing.provincial_video_conference``;
- every site's endpoint host fits its ``video_conference`` VLAN (and is not its gateway);
- the province room, the district rooms (``district_room_base`` + each district's slot) and the
  ad-hoc range do not overlap.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Callable, Sequence

from egov.model.schema import Conference, ProvinceFile

SITE_VLAN = "video_conference"
# (key path, message) -> None: the loader's collector, bound to the model file and its lines
Report = Callable[[tuple[object, ...], str], None]


def conference_service(pf: ProvinceFile) -> tuple[str, Conference] | None:
    """The service that carries the conference section (the MCU) and the section, if any."""
    for name, service in pf.services.items():
        if service.conference is not None:
            return name, service.conference
    return None


def district_room(conference: Conference, slot: int) -> int:
    """A district's standing room: the base plus the district's site slot (stable: the ledger)."""
    return conference.district_room_base + slot


def endpoint_address(network: ipaddress.IPv4Network, host: int) -> ipaddress.IPv4Address:
    return network.network_address + host


def check_conference(pf: ProvinceFile, district_slots: Sequence[int], vlan_prefix_len: int | None,
                     report: Report) -> None:
    """Problems of the conference section; district_slots: the slots of the districts placed."""
    carriers = [name for name, service in pf.services.items() if service.conference is not None]
    for name in carriers[1:]:
        report(("services", name, "conference"),
               f"only one service carries the conference (already {carriers[0]!r})")
    found = conference_service(pf)
    if found is None:
        return
    name, conf = found
    key: tuple[object, ...] = ("services", name, "conference")
    departments = {d.code for d in pf.departments}
    seen = Counter(e.department for e in conf.provincial_endpoints)
    for index, endpoint in enumerate(conf.provincial_endpoints):
        where = (*key, "provincial_endpoints", index, "department")
        if endpoint.department not in departments:
            report(where, f"unknown department {endpoint.department!r} (a code of `departments`)")
        elif seen[endpoint.department] > 1:
            report(where, f"department {endpoint.department!r} has more than one provincial endpoint "
                   "(one account per room: name another department)")
    wanted = pf.facts.baseline_2016.vc_endpoints_provincial
    if len(conf.provincial_endpoints) != wanted:
        report((*key, "provincial_endpoints"), f"{len(conf.provincial_endpoints)} provincial endpoints, the plan "
               f"says {wanted} (facts.baseline_2016.vc_endpoints_provincial)")
    block = pf.addressing.provincial_video_conference
    if conf.provincial_endpoints:
        if block is None:
            report((*key, "provincial_endpoints"), "the provincial endpoints need an address block: set "
                   "addressing.provincial_video_conference")
        else:
            last = conf.endpoint_host + len(conf.provincial_endpoints) - 1
            if last >= block.prefix.num_addresses - 1:
                report((*key, "endpoint_host"), f"hosts {conf.endpoint_host}-{last} of the provincial endpoints do "
                       f"not fit addressing.provincial_video_conference {block.prefix}")
    if vlan_prefix_len is None:
        report(key, f"the endpoints need the site VLAN {SITE_VLAN!r} (addressing.site_vlans)")
    else:
        size = 2 ** (32 - vlan_prefix_len)
        if conf.endpoint_host >= size - 1:
            report((*key, "endpoint_host"), f"host {conf.endpoint_host} does not fit a site's {SITE_VLAN} VLAN "
                   f"(a /{vlan_prefix_len}: hosts 2-{size - 2})")
    if conf.endpoint_host == 1:
        report((*key, "endpoint_host"), "host 1 is the VLAN's gateway (the site firewall)")
    districts = [district_room(conf, slot) for slot in district_slots]
    adhoc = range(conf.adhoc_rooms.first, conf.adhoc_rooms.first + conf.adhoc_rooms.count)
    if conf.province_room in districts:
        report((*key, "province_room"), f"room {conf.province_room} is also a district's room "
               f"(district_room_base {conf.district_room_base} + its slot)")
    if conf.province_room in adhoc:
        report((*key, "province_room"),
               f"room {conf.province_room} is in the ad-hoc range {adhoc.start}-{adhoc.stop - 1}")
    clash = sorted(set(districts) & set(adhoc))
    if clash:
        report((*key, "adhoc_rooms"), f"the ad-hoc range {adhoc.start}-{adhoc.stop - 1} overlaps the district rooms "
               f"{clash[0]}-{clash[-1]} (district_room_base + the districts' slots)")

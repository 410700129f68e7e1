"""Load and validate the province model; report every problem at once.

    province = load_province(Path("model/province.yml"))

Files read: the model file, the GSO register and the procedures catalogue it names, and the
allocation ledger (``allocations.yml`` beside the model). Sites and DC hosts missing from the
ledger get the next free number (in code / name order) so loading never fails on a new commune;
``egov model allocate`` writes the ledger so those numbers are kept from then on.
"""

from __future__ import annotations

import contextlib
import ipaddress
import itertools
import json
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from egov.model import conference, flows, ipplan, procedures
from egov.model.errors import ModelError, ModelIssue, format_path
from egov.model.procedures import Procedure, ProceduresFile
from egov.model.province import SITE_SYSTEMS, DcFirewall, DcHost, Department, Province, Site
from egov.model.schema import (
    EVERY_DC_HOST,
    HOST_LABEL_RE,
    SERVICE_NAME_RE,
    Allocations,
    GsoCommune,
    GsoDistrict,
    GsoProvince,
    ProvinceFile,
)
from egov.model.slugs import SlugRequest, assign_slugs
from egov.model.yamlpos import Lines, Parsed, line_for, parse_json, parse_yaml

DEFAULT_MODEL = Path(__file__).resolve().parents[3] / "model" / "province.yml"
KIND_OF_GSO_TYPE = {"Huyện": "district", "Thị xã": "district", "Thành phố": "district", "Quận": "district"}


class _Collector:
    def __init__(self) -> None:
        self.issues: list[ModelIssue] = []

    def add(self, file: Path | str, path: tuple[object, ...] | str, message: str,
            lines: dict[tuple[object, ...], int] | None = None) -> None:
        key = tuple(path) if isinstance(path, tuple) else ()
        text = format_path(key) if isinstance(path, tuple) else path
        line = line_for(lines, key) if lines is not None and isinstance(path, tuple) else None
        self.issues.append(ModelIssue(str(file), text, message, line))

    def pydantic(self, file: Path, error: ValidationError, lines: dict[tuple[object, ...], int] | None,
                 prefix: tuple[object, ...] = ()) -> None:
        for item in error.errors():
            loc = (*prefix, *item["loc"])
            message = item["msg"]
            if item["type"] == "missing":
                message = "required field is missing"
            elif item["type"] == "extra_forbidden":
                message = "unknown key (typo?)"
            elif "input" in item and item["type"] not in ("missing",):
                shown = repr(item["input"])
                message = f"{message} (got {shown[:60]})"
            self.add(file, loc, message, lines)


def _read_yaml(path: Path, col: _Collector) -> tuple[Any, dict[tuple[object, ...], int]] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        col.add(path, "", f"cannot read file: {exc.strerror}")
        return None
    try:
        parsed = parse_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        col.issues.append(ModelIssue(str(path), "", f"not valid YAML: {getattr(exc, 'problem', exc)}",
                                     mark.line + 1 if mark else None))
        return None
    _report_duplicates(path, parsed, col)
    return parsed.data, parsed.lines


def _report_duplicates(path: Path, parsed: Parsed, col: _Collector) -> None:
    """A key written twice is refused: YAML/JSON readers silently keep the last one."""
    for dup in parsed.duplicates:
        col.issues.append(ModelIssue(str(path), format_path(dup.path), f"duplicate key {dup.path[-1]!r} (first at "
                                     f"line {dup.first_line}; the second would silently replace the first)",
                                     dup.line))


class _Register:
    """The GSO register as read: the (possibly partial) register, its lines, and the key path in
    the file of every unit code, so that problems name the register's own lines."""

    def __init__(self, path: Path, gso: GsoProvince, lines: Lines, where: dict[str, tuple[object, ...]]) -> None:
        self.path = path
        self.gso = gso
        self.lines = lines
        self.where = where

    def at(self, code: str) -> tuple[object, ...]:
        return self.where.get(code, ())


def _read_gso(path: Path, col: _Collector) -> _Register | None:
    """Read and check the register. When some units are malformed (reported), the others are
    still returned, so that their checks still run."""
    try:
        parsed = parse_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        col.add(path, "", f"cannot read the GSO register: {exc.strerror}")
        return None
    except json.JSONDecodeError as exc:
        col.issues.append(ModelIssue(str(path), "", f"not valid JSON: {exc.msg}", exc.lineno))
        return None
    _report_duplicates(path, parsed, col)
    raw, lines = parsed.data, parsed.lines
    try:
        gso: GsoProvince | None = GsoProvince.model_validate(raw)
    except ValidationError as exc:
        col.pydantic(path, exc, lines)
        gso = _partial_gso(raw)
    if gso is None:
        return None
    where: dict[str, tuple[object, ...]] = {}
    for d_index, district in enumerate(raw["level2s"]):
        if not isinstance(district, dict):
            continue
        key: tuple[object, ...] = ("level2s", d_index, "level2_id")
        code = district.get("level2_id")
        if isinstance(code, str):
            if code in where:
                col.add(path, key, f"duplicate code {code} (also at {format_path(where[code])}, "
                        f"line {line_for(lines, where[code])})", lines)
            where.setdefault(code, key)
        communes = district.get("level3s")
        if communes == []:
            col.add(path, ("level2s", d_index, "level3s"), f"district {code} has no communes", lines)
        for c_index, commune in enumerate(communes if isinstance(communes, list) else []):
            ckey: tuple[object, ...] = ("level2s", d_index, "level3s", c_index, "level3_id")
            ccode = commune.get("level3_id") if isinstance(commune, dict) else None
            if isinstance(ccode, str):
                if ccode in where:
                    col.add(path, ckey, f"duplicate code {ccode} (also at {format_path(where[ccode])}, "
                            f"line {line_for(lines, where[ccode])})", lines)
                where.setdefault(ccode, ckey)
    return _Register(path, gso, lines, where)


def _partial_gso(raw: Any) -> GsoProvince | None:
    """The well-formed districts and communes of a register that has malformed ones."""
    if not isinstance(raw, dict) or not isinstance(raw.get("level2s"), list):
        return None
    districts: list[GsoDistrict] = []
    for item in raw["level2s"]:
        if not isinstance(item, dict):
            continue
        communes = []
        raw_communes = item.get("level3s")
        for commune in raw_communes if isinstance(raw_communes, list) else []:
            try:
                communes.append(GsoCommune.model_validate(commune))
            except ValidationError:
                continue
        try:
            districts.append(GsoDistrict.model_validate({**item, "level3s": []}).model_copy(
                update={"level3s": communes}))
        except ValidationError:
            continue
    level1 = raw.get("level1_id")
    return GsoProvince.model_construct(level1_id=level1 if isinstance(level1, str) else "", name="", type="",
                                       level2s=districts)


def _read_allocations(path: Path, col: _Collector) -> tuple[Allocations, dict[tuple[object, ...], int]]:
    if not path.exists():
        return Allocations(), {}
    loaded = _read_yaml(path, col)
    if loaded is None:
        return Allocations(), {}
    data, lines = loaded
    try:
        ledger = Allocations.model_validate(data or {})
    except ValidationError as exc:
        col.pydantic(path, exc, lines)
        return Allocations(), lines
    values: dict[int, str] = {}
    for key, number in ledger.sites.items():   # host numbers are unique per segment: see _derive
        if number < 1:
            col.add(path, ("sites", key), f"slot {number} must be 1 or more", lines)
        if number in values:
            col.add(path, ("sites", key), f"slot {number} is already given to site {values[number]}", lines)
        values.setdefault(number, key)
    return ledger, lines


def _read_procedures(path: Path, col: _Collector) -> tuple[list[Procedure | None], Lines] | None:
    """The procedures catalogue, entry by entry: a malformed entry (reported) is None, so that the
    cross-checks of the others still run at their own indices."""
    loaded = _read_yaml(path, col)
    if loaded is None:
        return None
    data, lines = loaded
    try:
        return list(ProceduresFile.model_validate(data).procedures), lines
    except ValidationError as exc:
        col.pydantic(path, exc, lines)
    raw = data.get("procedures") if isinstance(data, dict) else None
    if not isinstance(raw, list):
        return None
    entries: list[Procedure | None] = []
    for item in raw:
        try:
            entries.append(Procedure.model_validate(item))
        except ValidationError:
            entries.append(None)
    return entries, lines


def _oss_unit_kinds(pf: ProvinceFile) -> set[str]:
    """The unit types running a one-stop-shop: those of the rollout whose units have the system (every
    district and commune; a department when marked one_stop_shop)."""
    if "one_stop_shop" not in pf.rollout:
        return set()
    kinds = {kind for kind, systems in SITE_SYSTEMS.items() if "one_stop_shop" in systems}
    if any(d.one_stop_shop for d in pf.departments):
        kinds.add("department")
    return kinds


def _check_catalogue(pf: ProvinceFile, entries: list[Procedure | None], path: Path, lines: Lines,
                     col: _Collector) -> None:
    """The procedures against the model's departments and one-stop-shops (egov.model.procedures)."""
    def report(key: tuple[object, ...], message: str) -> None:
        col.add(path, key, message, lines)
    running = _oss_unit_kinds(pf)
    procedures.check_procedures(entries, pf.departments, running, report)
    if None not in entries:         # a malformed entry's unit type is unknown: its count would be wrong
        procedures.check_counts(entries, running, report)


def _next_free(taken: set[int], start: int = 1) -> int:
    return next(n for n in itertools.count(start) if n not in taken)


def _check_addressing(pf: ProvinceFile, file: Path, lines: dict[tuple[object, ...], int], col: _Collector) -> None:
    adr = pf.addressing
    named: list[tuple[tuple[object, ...], ipaddress.IPv4Network]] = [
        (("addressing", "dc_segments", name, "prefix"), seg.prefix) for name, seg in adr.dc_segments.items()
    ]
    named.append((("addressing", "wan", "prefix"), adr.wan.prefix))
    if adr.provincial_video_conference is not None:
        named.append((("addressing", "provincial_video_conference", "prefix"), adr.provincial_video_conference.prefix))
    named.append((("addressing", "site_pool"), adr.site_pool))
    for key, net in named:
        if not net.subnet_of(adr.supernet):
            col.add(file, key, f"{net} is outside the supernet {adr.supernet}", lines)
    for (key_a, net_a), (key_b, net_b) in itertools.combinations(named, 2):
        if net_a.overlaps(net_b):
            col.add(file, key_b, f"subnet {net_b} overlaps {net_a} at {format_path(key_a)}", lines)
    missing = {"management", "dmz", "services", "storage"} - set(adr.dc_segments)
    if missing:
        col.add(file, ("addressing", "dc_segments"), f"missing DC segment(s): {', '.join(sorted(missing))}", lines)
    vlan_owner: dict[int, tuple[object, ...]] = {}
    for seg_name, seg in adr.dc_segments.items():
        key = ("addressing", "dc_segments", seg_name, "vlan")
        if seg.vlan in vlan_owner:
            col.add(file, key, f"VLAN {seg.vlan} clashes with {format_path(vlan_owner[seg.vlan])}", lines)
        vlan_owner.setdefault(seg.vlan, key)
    if adr.wan.vlan in vlan_owner:
        col.add(file, ("addressing", "wan", "vlan"),
                f"VLAN {adr.wan.vlan} clashes with {format_path(vlan_owner[adr.wan.vlan])}", lines)
    if adr.site_prefix_len < adr.site_pool.prefixlen:
        col.add(file, ("addressing", "site_prefix_len"),
                f"/{adr.site_prefix_len} is larger than the pool {adr.site_pool}", lines)
    site_size = 2 ** (32 - adr.site_prefix_len)
    site_vlan_owner: dict[int, str] = {}
    ranges: list[tuple[str, int, int]] = []
    for name, spec in adr.site_vlans.items():
        key = ("addressing", "site_vlans", name)
        if not HOST_LABEL_RE.match(name.replace("_", "-")):
            col.add(file, key, f"VLAN name {name!r} is not a valid name", lines)
        if spec.vlan in site_vlan_owner:
            col.add(file, (*key, "vlan"),
                    f"VLAN {spec.vlan} clashes with site VLAN {site_vlan_owner[spec.vlan]}", lines)
        site_vlan_owner.setdefault(spec.vlan, name)
        size = 2 ** (32 - spec.prefix_len)
        if spec.offset % size:
            col.add(file, (*key, "offset"), f"offset {spec.offset} is not aligned to a /{spec.prefix_len}", lines)
        if spec.offset + size > site_size:
            col.add(file, key, f"{spec.offset}+{size} addresses do not fit a site /{adr.site_prefix_len}", lines)
        for other, low, high in ranges:
            if spec.offset < high and low < spec.offset + size:
                col.add(file, key, f"site subnet overlaps site VLAN {other}", lines)
        ranges.append((name, spec.offset, spec.offset + size))
    for name in ("office", "management"):
        if name not in adr.site_vlans:
            col.add(file, ("addressing", "site_vlans"), f"the site VLAN {name!r} is required", lines)


def _check_departments(pf: ProvinceFile, file: Path, lines: dict[tuple[object, ...], int], col: _Collector) -> None:
    dept_codes = Counter(d.code for d in pf.departments)
    for index, dept in enumerate(pf.departments):
        if dept_codes[dept.code] > 1:
            col.add(file, ("departments", index, "code"), f"duplicate department code {dept.code!r}", lines)


def _check_references(pf: ProvinceFile, file: Path, lines: dict[tuple[object, ...], int], col: _Collector) -> None:
    dept_codes = {d.code for d in pf.departments}
    for name, service in pf.services.items():
        if not SERVICE_NAME_RE.match(name):
            col.add(file, ("services", name), f"service name {name!r} is not a valid Ansible group name (a "
                    "lower-case letter, then 1-30 lower-case letters, digits or '_'): it names the inventory "
                    "group, and without it the service cannot make a hostname", lines)
        if service.owner not in dept_codes:
            col.add(file, ("services", name, "owner"), f"unknown department {service.owner!r}", lines)
    for index, flow in enumerate(pf.flows):
        if flow.to not in pf.services and flow.to != EVERY_DC_HOST:
            col.add(file, ("flows", index, "to"), f"unknown service {flow.to!r} (a service, or "
                    f"{EVERY_DC_HOST!r} for every DC host)", lines)
        for s_index, source in enumerate(flow.from_):
            kind, _, arg = source.partition(":")
            ok = (source in ("internet", "sites", "site_devices", "dc", "management")
                  or (kind == "service" and arg in pf.services)
                  or (kind == "site" and arg in pf.addressing.site_vlans))
            if not ok:
                col.add(file, ("flows", index, "from", s_index), f"unknown flow source {source!r}", lines)
    known_systems = {s for systems in SITE_SYSTEMS.values() for s in systems}
    for system in pf.rollout:
        if system not in known_systems:
            col.add(file, ("rollout", system), f"unknown system {system!r}", lines)


def _resolve_flows(pf: ProvinceFile, file: Path, lines: dict[tuple[object, ...], int],
                   col: _Collector) -> ProvinceFile:
    """Listeners checked, and every flow's listener names resolved into ports (egov.model.flows)."""
    def report(path: tuple[object, ...], message: str) -> None:
        col.add(file, path, message, lines)
    flows.check_listeners(pf, report)
    return flows.resolve_flows(pf, report)


def _check_conference(pf: ProvinceFile, province: Province, file: Path, lines: Lines, col: _Collector) -> None:
    """The MCU's rooms and endpoints against the departments, the sites and the addressing
    (egov.model.conference)."""
    def report(path: tuple[object, ...], message: str) -> None:
        col.add(file, path, message, lines)
    vlan = pf.addressing.site_vlans.get(conference.SITE_VLAN)
    conference.check_conference(pf, [d.slot for d in province.districts], vlan.prefix_len if vlan else None, report)


def _lenient(model: type[BaseModel], raw: Any) -> BaseModel | None:
    """An entry with shape errors (already reported), rebuilt from its valid fields and the defaults
    of its invalid optional ones, so that the cross-checks of its section still run; None when a
    required field is missing or invalid."""
    if not isinstance(raw, dict):
        return None
    values: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        key = field.alias or name
        if key in raw:
            try:
                values[name] = TypeAdapter(field.annotation).validate_python(raw[key])
                continue
            except ValidationError:
                pass
        if key in raw:
            values[name] = raw[key]     # checks reading it may stumble: see _guarded
        elif field.is_required():
            return None
        else:
            values[name] = field.get_default(call_default_factory=True)
    return model.model_construct(**values)


def _guarded(check: Any, *args: Any) -> None:
    """A cross-check over a partial model (its shape errors already reported) that stumbles on a
    malformed value stops there; what it found so far is kept."""
    with contextlib.suppress(AttributeError, TypeError, KeyError, ValueError, IndexError):
        check(*args)


def _partial_province(data: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """The sections of a model with shape errors that are valid, validated entry by entry in the
    mappings and lists of entries (services, departments, flows, ...); and the names of the entries
    that are not wholly valid (their cross-check problems would be consequences, not causes)."""
    valid: dict[str, Any] = {}
    tainted: set[str] = set()
    for name, field in ProvinceFile.model_fields.items():
        key = field.alias or name
        if key not in data:
            if not field.is_required():
                valid[name] = field.get_default(call_default_factory=True)
            continue
        raw = data[key]
        try:
            valid[name] = ProvinceFile.__pydantic_validator__.validate_assignment(
                ProvinceFile.model_construct(), name, raw).__dict__[name]
            continue
        except ValidationError:
            pass
        entry = _entry_model(field.annotation)
        if entry is None:
            continue
        if isinstance(raw, dict):
            entries: dict[str, Any] = {}
            for entry_key, value in raw.items():
                try:
                    entries[entry_key] = TypeAdapter(entry).validate_python(value)
                    continue
                except ValidationError:
                    tainted.add(str(entry_key))
                rebuilt = _lenient(entry, value)
                if rebuilt is not None:
                    entries[entry_key] = rebuilt
            valid[name] = entries
        elif isinstance(raw, list):
            items: list[Any] = []
            for value in raw:
                try:
                    items.append(TypeAdapter(entry).validate_python(value))
                    continue
                except ValidationError:
                    tainted.update(str(v) for v in (value.values() if isinstance(value, dict) else ())
                                   if isinstance(v, str))
                rebuilt = _lenient(entry, value)
                if rebuilt is None:
                    break           # the list's indices would shift: its checks cannot run
                items.append(rebuilt)
            else:
                valid[name] = items
    return valid, tainted


def _entry_model(annotation: Any) -> type[BaseModel] | None:
    """Service for dict[str, Service], Flow for list[Flow]; None for other annotations."""
    args = getattr(annotation, "__args__", ())
    last = args[-1] if args else None
    return last if isinstance(last, type) and issubclass(last, BaseModel) else None


def _check_valid_sections(data: Any, file: Path, lines: Lines, col: _Collector) -> ProvinceFile | None:
    """When the file has shape errors, still run the cross-checks whose sections are valid (entry
    by entry), so that one load reports every problem it can find. Returns the partial model."""
    if not isinstance(data, dict):
        return None
    valid, tainted = _partial_province(data)
    partial = ProvinceFile.model_construct(**valid)
    found = _Collector()
    if "addressing" in valid:
        _guarded(_check_addressing, partial, file, lines, found)
    if "departments" in valid:
        _guarded(_check_departments, partial, file, lines, found)
    if {"departments", "services", "flows", "addressing", "rollout", "host_listeners"} <= valid.keys():
        _guarded(_check_references, partial, file, lines, found)
        _guarded(_resolve_flows, partial, file, lines, found)
    marks = [f"'{name}'" for name in tainted] + [f":{name}'" for name in tainted]
    col.issues += [issue for issue in found.issues if not any(mark in issue.message for mark in marks)]
    return partial


def _check_gso_against_model(register: _Register, code: Any, model_path: Path, col: _Collector) -> None:
    gso = register.gso
    if isinstance(code, str) and gso.level1_id and gso.level1_id != code:
        col.add(register.path, ("level1_id",), f"province code {gso.level1_id} differs from province.code "
                f"{code} in {model_path}", register.lines)


def _site_slugs(register: _Register, col: _Collector) -> dict[str, str]:
    """Every unit's slug; bad or shared slugs reported against the register, naming the units."""
    gso = register.gso
    district_req = [SlugRequest(d.level2_id, d.name, d.type) for d in gso.level2s]
    district_slug_guess = assign_slugs(district_req, [])
    commune_req = [SlugRequest(c.level3_id, c.name, c.type, district_slug_guess[d.level2_id])
                   for d in gso.level2s for c in d.level3s]
    slugs = assign_slugs(district_req, commune_req)
    names = {d.level2_id: d.name for d in gso.level2s} | {c.level3_id: c.name for d in gso.level2s
                                                          for c in d.level3s}
    for key, slug in slugs.items():
        if not HOST_LABEL_RE.match(f"fw-{slug}"):
            col.add(register.path, register.at(key), f"unit {key} {names[key]!r}: slug {slug!r} makes the bad "
                    f"hostname fw-{slug}", register.lines)
    by_slug: dict[str, list[str]] = {}
    for key, slug in slugs.items():
        by_slug.setdefault(slug, []).append(key)
    for slug, codes in by_slug.items():
        if len(codes) > 1:
            for key in codes:
                others = ", ".join(f"{c} {names[c]!r} (line {line_for(register.lines, register.at(c))})"
                                   for c in codes if c != key)
                col.add(register.path, register.at(key), f"unit {key} {names[key]!r} gets the slug {slug!r}, "
                        f"as does {others}: slugs name hosts and must be unique", register.lines)
    return slugs


def load_province(model_path: Path | str = DEFAULT_MODEL, *, admin_units: Path | str | None = None,
                  allocations: Path | str | None = None) -> Province:
    """Load, validate and derive the province. Raises ModelError listing every problem."""
    model_path = Path(model_path)
    col = _Collector()
    loaded = _read_yaml(model_path, col)
    pf: ProvinceFile | None = None
    partial: ProvinceFile | None = None
    lines: Lines = {}
    data: Any = None
    if loaded is not None:
        data, lines = loaded
        try:
            pf = ProvinceFile.model_validate(data)
        except ValidationError as exc:
            col.pydantic(model_path, exc, lines)
            partial = _check_valid_sections(data, model_path, lines, col)
    info = data.get("province") if isinstance(data, dict) else None
    info = info if isinstance(info, dict) else {}
    gso_path = Path(admin_units) if admin_units else None
    if gso_path is None and isinstance(info.get("admin_units_file"), str):
        gso_path = model_path.parent / info["admin_units_file"]
    register = _read_gso(gso_path, col) if gso_path is not None else None
    catalogue_path = (model_path.parent / info["procedures_file"]
                      if isinstance(info.get("procedures_file"), str) else None)
    catalogue = _read_procedures(catalogue_path, col) if catalogue_path is not None else None
    ledger_path = Path(allocations) if allocations else model_path.parent / "allocations.yml"
    ledger, ledger_lines = _read_allocations(ledger_path, col)
    slugs: dict[str, str] = {}
    if register is not None:
        _check_gso_against_model(register, info.get("code"), model_path, col)
        slugs = _site_slugs(register, col)
    if pf is None or register is None:
        if partial is not None and register is not None and "site_overrides" in partial.__dict__:
            _guarded(_check_site_overrides, partial, register.gso, model_path, lines, col)
        if partial is not None and catalogue is not None and catalogue_path is not None \
                and {"departments", "rollout"} <= partial.__dict__.keys():
            _guarded(_check_catalogue, partial, catalogue[0], catalogue_path, catalogue[1], col)
        raise ModelError(col.issues)

    _check_addressing(pf, model_path, lines, col)
    _check_departments(pf, model_path, lines, col)
    _check_references(pf, model_path, lines, col)
    pf = _resolve_flows(pf, model_path, lines, col)
    province = _derive(pf, register.gso, slugs, ledger, model_path, lines, ledger_path, ledger_lines, col)
    if province is not None:
        _check_conference(pf, province, model_path, lines, col)
    if catalogue is not None and catalogue_path is not None:
        _check_catalogue(pf, catalogue[0], catalogue_path, catalogue[1], col)
    if col.issues:
        raise ModelError(col.issues)
    assert province is not None and catalogue is not None
    province.procedures = tuple(p for p in catalogue[0] if p is not None)
    return province


def _report_pool_exhausted(pf: ProvinceFile, slugs: dict[str, str], site_slots: dict[str, int],
                           overflow: list[str], capacity: int, model_path: Path, lines: Lines,
                           col: _Collector) -> None:
    """One problem, not one per site: what ran out, how many sites did not fit, what to change."""
    adr = pf.addressing
    needed = max(site_slots[c] for c in overflow)
    short: list[tuple[tuple[object, ...], str]] = []
    if ipplan.site_capacity(adr) < needed:
        bits = 32 - adr.site_prefix_len + max(needed - 1, 1).bit_length()
        short.append((("addressing", "site_pool"),
                      f"the site pool {adr.site_pool} holds {ipplan.site_capacity(adr)} sites of "
                      f"/{adr.site_prefix_len}: set addressing.site_pool to a /{32 - bits} (or a longer "
                      "addressing.site_prefix_len)"))
    if ipplan.wan_capacity(adr) < needed:
        bits = (needed + 2 + adr.wan_first_site - 1).bit_length()
        short.append((("addressing", "wan", "prefix"),
                      f"the WAN {adr.wan.prefix} has addresses for {ipplan.wan_capacity(adr)} sites: set "
                      f"addressing.wan.prefix to a /{32 - bits}"))
    if not short:       # slots of the ledger beyond a pool that holds every site
        short.append((("addressing", "site_pool"), "renumber the ledger's slots beyond it"))
    shown = ", ".join(sorted(overflow, key=lambda c: (site_slots[c], c))[:5])
    more = ", ..." if len(overflow) > 5 else ""
    col.add(model_path, short[0][0], f"address pool exhausted: {len(overflow)} of {len(slugs)} sites do not fit "
            f"(slots up to {needed} needed, {capacity} available; not placed: {shown}{more}): "
            + "; ".join(text for _, text in short), lines)


def _check_site_overrides(pf: ProvinceFile, gso: GsoProvince, model_path: Path, lines: Lines,
                          col: _Collector) -> None:
    district_of = {d.level2_id: d.level2_id for d in gso.level2s}
    district_of |= {c.level3_id: d.level2_id for d in gso.level2s for c in d.level3s}
    district_codes = {d.level2_id for d in gso.level2s}
    for code, override in pf.site_overrides.items():
        key = ("site_overrides", code)
        if code not in district_of:
            col.add(model_path, key, f"unknown site code {code!r} (not in the GSO register)", lines)
        elif override.district is not None:
            if override.district not in district_codes:
                col.add(model_path, (*key, "district"), f"unknown district {override.district!r}", lines)
            elif override.district != district_of[code]:
                col.add(model_path, (*key, "district"), f"site {code} belongs to district {district_of[code]}, "
                        f"not {override.district}", lines)


def _derive(pf: ProvinceFile, gso: GsoProvince, slugs: dict[str, str], ledger: Allocations, model_path: Path,
            lines: Lines, ledger_path: Path, ledger_lines: Lines, col: _Collector) -> Province | None:
    adr = pf.addressing
    site_slots = dict(ledger.sites)
    taken = set(site_slots.values())
    free = 1        # the lowest free slot only grows: one pass, not a search per site
    for code in sorted(slugs, key=lambda c: (len(c), c)):   # districts (3 digits) first, then communes
        if code not in site_slots:
            free = _next_free(taken, free)
            site_slots[code] = free
            taken.add(free)
    pool_capacity = min(ipplan.site_capacity(adr), ipplan.wan_capacity(adr))
    overflow: list[str] = []

    def rollout_for(kind: str) -> dict[str, int]:
        return {system: getattr(years, kind) for system, years in pf.rollout.items()}

    def make_site(code: str, name: str, gso_type: str, kind: str, district_code: str) -> Site | None:
        slot = site_slots[code]
        if slot > pool_capacity:
            overflow.append(code)
            return None
        override = pf.site_overrides.get(code)
        officials = override.officials if override and override.officials else getattr(pf.staffing, kind)
        return Site(code=code, name=name, gso_type=gso_type, kind=kind, slug=slugs[code],
                    district_code=district_code, slot=slot, officials=officials, systems=tuple(SITE_SYSTEMS[kind]),
                    rollout=rollout_for(kind), vlans=tuple(ipplan.site_vlans(adr, slot)),
                    block=ipplan.site_block(adr, slot), wan_address=ipplan.site_wan_address(adr, slot))

    districts: list[Site] = []
    communes: list[Site] = []
    for district in gso.level2s:
        made = make_site(district.level2_id, district.name, district.type, "district", district.level2_id)
        if made:
            districts.append(made)
        for commune in district.level3s:
            made = make_site(commune.level3_id, commune.name, commune.type, "commune", district.level2_id)
            if made:
                communes.append(made)
    if overflow:
        _report_pool_exhausted(pf, slugs, site_slots, overflow, pool_capacity, model_path, lines, col)
    _check_site_overrides(pf, gso, model_path, lines, col)

    departments = [
        Department(code=d.code, name=d.name, one_stop_shop=d.one_stop_shop, officials=pf.staffing.department,
                   systems=tuple(["portal_site", "mail", "sso", "document_management",
                                  *(["one_stop_shop"] if d.one_stop_shop else [])]))
        for d in pf.departments
    ]

    host_numbers = dict(ledger.hosts)
    by_segment: dict[str, set[int]] = {}
    planned: list[tuple[str, str, int, str]] = []
    for service_name, service in pf.services.items():
        for index in range(1, service.hosts + 1):
            planned.append((f"{service_name.replace('_', '-')}-{index:02d}", service_name, index, service.segment))
    segment_of = {name: segment for name, _, _, segment in planned}
    owner: dict[tuple[str, int], str] = {}
    for name, number in sorted(host_numbers.items()):
        if name in segment_of:
            used = by_segment.setdefault(segment_of[name], set())
            if number in used:
                col.add(ledger_path, ("hosts", name), f"number {number} is already given to "
                        f"{owner[(segment_of[name], number)]} in segment {segment_of[name]}", ledger_lines)
            used.add(number)
            owner[(segment_of[name], number)] = name
    dc_hosts: list[DcHost] = []
    for name, service_name, index, segment in planned:
        if name not in host_numbers:
            used = by_segment.setdefault(segment, set())
            host_numbers[name] = _next_free(used, adr.dc_first_host)
            used.add(host_numbers[name])
        seg = adr.dc_segments[segment]  # type: ignore[index]
        try:
            address = ipplan.dc_host_address(adr, segment, host_numbers[name])
        except ValueError as exc:
            col.add(ledger_path, ("hosts", name), str(exc), ledger_lines)
            continue
        dc_hosts.append(DcHost(name=name, service=service_name, index=index, segment=segment, vlan=seg.vlan,
                               address=address, network=seg.prefix,
                               gateway=ipplan.dc_firewall_address(adr, segment), host_number=host_numbers[name],
                               ha_group=service_name if pf.services[service_name].hosts > 1 else None))
    host_names = Counter([h.name for h in dc_hosts] + [s.firewall_name for s in districts + communes])
    site_firewalls = Counter(s.firewall_name for s in districts + communes)
    for name, count in host_names.items():
        if count > 1 and site_firewalls[name] < count:    # shared slugs: reported against the register
            col.add(model_path, "services", f"hostname {name!r} is produced {count} times")
        if len(f"{name}.{pf.province.domain}") > 253 or not HOST_LABEL_RE.match(name):
            col.add(model_path, "services", f"bad hostname {name!r}")

    firewall = DcFirewall(
        name="dc-fw-01",
        interfaces={
            name: (seg.vlan, ipaddress.IPv4Interface((ipplan.dc_firewall_address(adr, name), seg.prefix.prefixlen)))
            for name, seg in adr.dc_segments.items()
        },
        wan_address=ipplan.dc_firewall_wan_address(adr),
    )

    # plan facts the model must agree with
    facts = pf.facts.baseline_2016
    portal_sites = len(departments) + len(districts)
    if portal_sites != facts.portal_component_sites:
        col.add(model_path, ("departments",), f"{len(departments)} departments + {len(districts)} districts = "
                f"{portal_sites} component portals, the plan says {facts.portal_component_sites}", lines)
    # DNS labels: a component portal's name (department code, district slug) must not shadow a service name
    labels = Counter([label for service in pf.services.values() for label in service.names]
                     + ([d.code for d in departments] + [s.slug for s in districts]
                        if any(service.component_site_names for service in pf.services.values()) else []))
    for label, count in sorted(labels.items()):
        if count > 1:
            col.add(model_path, "services", f"DNS name {label!r} is given {count} times (service names and "
                    "component portals: department codes, district slugs)")
    oss_departments = sum(d.one_stop_shop for d in departments)
    expected_oss = facts.one_stop_shop_agencies - len(districts) - facts.one_stop_shop_communes
    if oss_departments != expected_oss:
        col.add(model_path, ("departments",), f"{oss_departments} departments are marked one_stop_shop; the plan's "
                f"{facts.one_stop_shop_agencies} agencies less {len(districts)} districts and "
                f"{facts.one_stop_shop_communes} communes leave {expected_oss}", lines)
    if facts.communes_with_lan > len(communes):
        col.add(model_path, ("facts", "baseline_2016", "communes_with_lan"),
                f"{facts.communes_with_lan} is more than the {len(communes)} communes", lines)
    total = sum(d.officials for d in departments) + sum(s.officials for s in districts + communes)
    if total < facts.mailboxes:
        col.add(model_path, ("staffing",), f"officials add up to {total}, fewer than the plan's "
                f"{facts.mailboxes} mailboxes of 2016", lines)
    return Province(source=pf, code=pf.province.code, name=pf.province.name, slug=pf.province.slug,
                    domain=pf.province.domain, districts=districts, communes=communes, departments=departments,
                    dc_hosts=dc_hosts, dc_firewall=firewall,
                    allocations={"sites": site_slots, "hosts": host_numbers})


def render_allocations(province: Province) -> str:
    """The ledger as YAML, sorted, with a header explaining it."""
    sites = province.allocations["sites"]
    hosts = province.allocations["hosts"]
    names = {s.code: f"{s.kind} {s.name}" for s in province.sites}
    out = [
        "---",
        "# Allocation ledger: site slots (the N-th /24 of the site pool, the N-th WAN address) and",
        "# DC host numbers. Written by `egov model allocate`; numbers are never changed or reused,",
        "# so adding a site or a host never renumbers an existing one. Codes no longer in the GSO",
        "# register stay here, reserved.",
        "sites:",
    ]
    for code in sorted(sites, key=lambda c: (sites[c], c)):
        comment = f"  # {names[code]}" if code in names else "  # retired"
        out.append(f'  "{code}": {sites[code]}{comment}')
    out.append("hosts:")
    for name in sorted(hosts):
        out.append(f"  {name}: {hosts[name]}")
    return "\n".join(out) + "\n"

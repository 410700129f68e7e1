"""Volumes: an encrypted Cinder type for every volume, and the total within the SAN's capacity."""

from __future__ import annotations

from collections.abc import Mapping

from pulumi_policy import (
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from province_policies import types
from province_policies.props import is_unknown, known, number

DEFAULT_ENCRYPTED_TYPES = ["encrypted-ssd", "encrypted-hdd"]
DEFAULT_CAPACITY_GB = 24000


def _encrypted_types(args: ResourceValidationArgs) -> list[str]:
    return list(args.get_config().get("encryptedTypes") or DEFAULT_ENCRYPTED_TYPES)


def _validate_type(args: ResourceValidationArgs, report: ReportViolation) -> None:
    allowed = _encrypted_types(args)
    if args.resource_type == types.VOLUME:
        volume_type = known(args.props, "volumeType")
        if not is_unknown(volume_type) and volume_type not in allowed:
            report(f"volume {args.name!r} has type {volume_type!r}; encrypted types are {allowed}", None)
    elif args.resource_type == types.INSTANCE:
        devices = known(args.props, "blockDevices") or []
        if is_unknown(devices):
            return
        for device in devices:
            if isinstance(device, Mapping) and known(device, "destinationType") == "volume":
                volume_type = known(device, "volumeType")
                if not is_unknown(volume_type) and volume_type not in allowed:
                    report(f"instance {args.name!r} boots from a volume of type {volume_type!r}; "
                           f"encrypted types are {allowed}", None)


encrypted_volume_types = ResourceValidationPolicy(
    name="encrypted-volume-types",
    description="Every Cinder volume (and boot volume) uses an encrypted volume type.",
    validate=_validate_type,
    config_schema=PolicyConfigSchema(
        properties={"encryptedTypes": {"type": "array", "items": {"type": "string"},
                                       "default": DEFAULT_ENCRYPTED_TYPES}}),
)


def requested_gb(args: StackValidationArgs) -> float:
    total = 0.0
    for resource in args.resources:
        if resource.resource_type == types.VOLUME:
            total += number(known(resource.props, "size")) or 0.0
        elif resource.resource_type == types.INSTANCE:
            devices = known(resource.props, "blockDevices") or []
            for device in [] if is_unknown(devices) else devices:
                if isinstance(device, Mapping) and known(device, "destinationType") == "volume":
                    total += number(known(device, "volumeSize")) or 0.0
    return total


def _validate_capacity(args: StackValidationArgs, report: ReportViolation) -> None:
    capacity = float(args.get_config().get("capacityGb") or DEFAULT_CAPACITY_GB)
    total = requested_gb(args)
    if total > capacity:
        report(f"the stack requests {total:.0f} GB of volumes, more than the SAN's {capacity:.0f} GB", None)


san_capacity = StackValidationPolicy(
    name="san-capacity",
    description="The volumes of the stack fit in the configured SAN capacity.",
    validate=_validate_capacity,
    config_schema=PolicyConfigSchema(properties={"capacityGb": {"type": "number", "default": DEFAULT_CAPACITY_GB}}),
)

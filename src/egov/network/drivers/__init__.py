"""Per-platform drivers: how to read, change and save one device over Netmiko."""

from __future__ import annotations

from egov.network.drivers.base import Driver, Options
from egov.network.drivers.ios import IosDriver
from egov.network.drivers.nftables import NftablesDriver
from egov.network.errors import DeviceError, ErrorKind

DRIVERS: dict[str, type[Driver]] = {"ios": IosDriver, "nftables": NftablesDriver}


def driver_class(name: str) -> type[Driver]:
    try:
        return DRIVERS[name]
    except KeyError:
        raise DeviceError(ErrorKind.UNKNOWN_PLATFORM, f"no driver {name!r} (known: {', '.join(DRIVERS)})") from None


__all__ = ["DRIVERS", "Driver", "Options", "driver_class"]

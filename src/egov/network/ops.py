"""The operations, per device: render, backup, diff, push, verify, rollback, drift."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from egov.model import Province
from egov.network import registry
from egov.network.archive import Archive
from egov.network.credentials import Credentials
from egov.network.drivers import Driver, Options, driver_class
from egov.network.errors import DeviceError, ErrorKind
from egov.network.inventory import Device
from egov.network.render import Renderer
from egov.network.report import DeviceResult

OPERATIONS = ("render", "backup", "diff", "push", "verify", "rollback", "drift")


@dataclass
class Context:
    province: Province
    credentials: Credentials
    options: Options = field(default_factory=Options)
    archive: Archive | None = None
    rollback_ref: str | None = None
    render_dir: Path | None = None
    network_dir: Path | None = None
    env: str = "production"          # policy.yml env_flows of this environment are rendered

    def __post_init__(self) -> None:
        self.renderer = Renderer(self.province, self.credentials, self.network_dir, self.env)
        self.platforms = registry.platforms(self.network_dir)

    def driver(self, device: Device) -> Driver:
        platform = self.platforms.get(device.platform)
        if platform is None:
            raise DeviceError(ErrorKind.UNKNOWN_PLATFORM, f"platform {device.platform!r} is not in the registry")
        cls = driver_class(platform.driver)
        login = self.credentials.login_for(device.kind)
        overrides = {k: device.vars[k] for k in ("username", "password", "enable", "key_file", "known_hosts")
                     if k in device.vars}
        if overrides:
            login = replace(login, **overrides)
        return cls(device, platform, login, self.options)


def _result(device: Device, status: str, changes: list[str] | None = None, message: str = "") -> DeviceResult:
    return DeviceResult(device=device.name, platform=device.platform, site=device.site_key, status=status,
                        changes=changes or [], message=message)


def render(ctx: Context, device: Device) -> DeviceResult:
    rendered = ctx.renderer.render(device)
    if ctx.render_dir:
        target = ctx.render_dir / device.platform / f"{device.name}.cfg"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(rendered.text, encoding="utf-8")
    return _result(device, "rendered", message=f"{len(rendered.text.splitlines())} lines ({rendered.template})")


def backup(ctx: Context, device: Device) -> DeviceResult:
    assert ctx.archive is not None
    driver = ctx.driver(device)
    with driver.session() as conn:
        text = driver.running(conn)
    ctx.archive.write(device.name, text)
    return _result(device, "backed-up", message=f"{len(text.splitlines())} lines")


def diff(ctx: Context, device: Device) -> DeviceResult:
    intended = ctx.renderer.render(device).text
    driver = ctx.driver(device)
    with driver.session() as conn:
        running = driver.running(conn)
    changes = driver.differences(intended, running)
    return _result(device, "differs" if changes else "in-sync", changes)


def drift(ctx: Context, device: Device) -> DeviceResult:
    result = diff(ctx, device)
    result.status = "drift" if result.changes else "in-sync"
    return result


def push(ctx: Context, device: Device) -> DeviceResult:
    intended = ctx.renderer.render(device).text
    return _push_text(ctx, device, intended, "changed")


def _push_text(ctx: Context, device: Device, intended: str, changed_status: str) -> DeviceResult:
    driver = ctx.driver(device)
    with driver.session() as conn:
        running = driver.running(conn)
        change = driver.apply(conn, intended, running)
    if not change.changed:
        return _result(device, "unchanged")
    with driver.session() as conn:        # read back through a fresh session
        after = driver.running(conn)
    left = driver.differences(intended, after)
    if left:
        raise DeviceError(ErrorKind.VERIFY, f"{len(left)} differences remain after the change: {left[:3]}")
    return _result(device, changed_status, change.commands)


def verify(ctx: Context, device: Device) -> DeviceResult:
    result = diff(ctx, device)
    if result.changes:
        raise DeviceError(ErrorKind.VERIFY, f"running config differs from intent in {len(result.changes)} lines: "
                          f"{result.changes[:3]}")
    result.status = "verified"
    return result


def rollback(ctx: Context, device: Device) -> DeviceResult:
    assert ctx.archive is not None and ctx.rollback_ref
    target = ctx.archive.read(ctx.rollback_ref, device.name)
    result = _push_text(ctx, device, target, "rolled-back")
    result.message = f"to {ctx.rollback_ref}"
    return result


TASKS = {"render": render, "backup": backup, "diff": diff, "push": push, "verify": verify, "rollback": rollback,
         "drift": drift}

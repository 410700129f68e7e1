"""A bounded worker pool: per-device retry, failures isolated, progress reported."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed

from egov.network.errors import RETRYABLE, DeviceError, ErrorKind
from egov.network.inventory import Device
from egov.network.report import DeviceResult

Task = Callable[[Device], DeviceResult]


def with_retry(task: Task, retries: int, backoff: float = 0.5) -> Task:
    def run(device: Device) -> DeviceResult:
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                result = task(device)
            except DeviceError as exc:
                if exc.kind in RETRYABLE and attempt <= retries:
                    time.sleep(backoff * attempt)
                    continue
                result = failed(device, exc.kind, exc.message)
            except Exception as exc:
                result = failed(device, ErrorKind.INTERNAL, f"{exc.__class__.__name__}: {exc}")
            result.attempts = attempt
            result.seconds = time.monotonic() - started
            return result
    return run


def failed(device: Device, kind: ErrorKind, message: str) -> DeviceResult:
    return DeviceResult(device=device.name, platform=device.platform, site=device.site_key, status="failed",
                        error_kind=str(kind), message=message)


def run_all(devices: list[Device], task: Task, workers: int, retries: int = 1,
            progress: Callable[[DeviceResult], None] | None = None) -> list[DeviceResult]:
    """Run task on every device with at most `workers` at a time; results in inventory order."""
    wrapped = with_retry(task, retries)
    results: dict[str, DeviceResult] = {}
    if workers <= 1:
        for device in devices:
            results[device.name] = wrapped(device)
            if progress:
                progress(results[device.name])
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="egov-net") as pool:
            futures = {pool.submit(wrapped, d): d for d in devices}
            for future in as_completed(futures):
                result = future.result()
                results[result.device] = result
                if progress:
                    progress(result)
    return [results[d.name] for d in devices]

"""Push + verify to every site's switch (emulated, fake-switches), serial vs the worker pool.

    python benchmarks/network_push.py [--limit N] [--workers 1,4,8,16]

Each round starts a fresh switch farm (blank switches), then pushes the full intended config and
verifies it. Prints seconds per round and devices per second.
"""

from __future__ import annotations

import argparse
import functools
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests" / "network"))

from harness import switches  # noqa: E402

from egov.model import load_province  # noqa: E402
from egov.network import credentials, inventory, ops  # noqa: E402
from egov.network.drivers import Options  # noqa: E402
from egov.network.runner import run_all  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=0, help="only the first N site switches (0: all)")
    parser.add_argument("--workers", default="1,8", help="comma-separated pool sizes; 1 = serial")
    args = parser.parse_args()
    province = load_province()
    all_switches = [d for d in inventory.derive(province) if d.role == "switch"]
    chosen = all_switches[: args.limit] if args.limit else all_switches
    ctx = ops.Context(province=province, credentials=credentials.generate(), options=Options(timeout=20))
    print(f"{len(chosen)} site switches, full config push + verify, fake-switches in one process")
    for workers in (int(w) for w in args.workers.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            farm = switches.start([d.name for d in chosen], Path(tmp))
            try:
                devices = inventory.apply_hosts_file(chosen, farm.hosts_file)
                started = time.monotonic()
                pushed = run_all(devices, functools.partial(ops.push, ctx), workers, 1)
                push_s = time.monotonic() - started
                verified = run_all(devices, functools.partial(ops.verify, ctx), workers, 1)
                total = time.monotonic() - started
            finally:
                farm.stop()
        failed = [r for r in pushed + verified if r.failed]
        print(f"workers={workers:<3} push {push_s:6.1f} s  push+verify {total:6.1f} s  "
              f"{len(devices) / total:5.2f} devices/s  failures {len(failed)}")
        for r in failed[:5]:
            print(f"  {r.device}: {r.error_kind}: {r.message}")


if __name__ == "__main__":
    main()

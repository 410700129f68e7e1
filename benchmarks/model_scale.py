#!/usr/bin/env python3
"""Benchmark: the province model at scale (a synthetic GSO register of 10,000 communes).

Copies model/ into a temporary directory, replaces the register by a synthetic one (the real 11
districts, N communes spread over them, unique names), widens the address plan so every site
fits (the default pool holds 256 sites: with it, loading reports one "address pool exhausted"
problem, also shown), and prints the time to load the model and to generate the inventories
(what `egov inventory generate` does: the ledger and both environments). Not a test: it only
measures.

    python benchmarks/model_scale.py [--communes 10000] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from egov.inventory import write_inventories  # noqa: E402
from egov.model import ModelError, load_province, render_allocations  # noqa: E402

# large enough for 16,384 sites (/24 each) and their WAN addresses, around the DC segments
WIDE_PLAN = {"supernet": "10.0.0.0/8", "site_pool": "10.128.0.0/10", "wan": "10.64.0.0/18"}


def synthetic_register(real: dict, communes: int) -> dict:
    districts = [dict(d, level3s=[]) for d in real["level2s"]]
    kinds = ["Xã", "Phường", "Thị trấn"]
    for n in range(communes):
        district = districts[n % len(districts)]
        code = f"{40000 + n:05d}" if n < 60000 else f"{n:05d}"
        kind = kinds[n % 7 % 3]
        district["level3s"].append({"level3_id": code, "name": f"{kind} Thử Nghiệm {n + 1}", "type": kind})
    return dict(real, level2s=districts)


def make_model(root: Path, communes: int, wide: bool) -> Path:
    model = root / "model"
    shutil.copytree(REPO / "model", model)
    (model / "allocations.yml").unlink()
    register = next((model / "admin-units").glob("*.json"))
    real = json.loads(register.read_text(encoding="utf-8"))
    register.write_text(json.dumps(synthetic_register(real, communes), ensure_ascii=False, indent=1),
                        encoding="utf-8")
    if wide:
        path = model / "province.yml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        adr = data["addressing"]
        adr["supernet"], adr["site_pool"] = WIDE_PLAN["supernet"], WIDE_PLAN["site_pool"]
        adr["wan"]["prefix"] = WIDE_PLAN["wan"]
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return model / "province.yml"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--communes", type=int, default=10_000)
    parser.add_argument("--profile", action="store_true", help="print the 25 costliest functions of generate")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="egov-scale-") as tmp:
        small = make_model(Path(tmp) / "default-pool", args.communes, wide=False)
        started = time.perf_counter()
        try:
            load_province(small)
            print("default pool: loaded (no exhaustion?)")
        except ModelError as exc:
            print(f"default pool: {len(exc.issues)} problem(s) in {time.perf_counter() - started:.2f} s:")
            for issue in exc.issues[:5]:
                print(f"  - {issue}")

        model = make_model(Path(tmp) / "wide", args.communes, wide=True)
        started = time.perf_counter()
        province = load_province(model)
        load_s = time.perf_counter() - started
        print(f"load: {len(province.sites)} sites, {len(province.dc_hosts)} DC hosts in {load_s:.2f} s")
        profiler = cProfile.Profile() if args.profile else None
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        (model.parent / "allocations.yml").write_text(render_allocations(province), encoding="utf-8")
        changed = write_inventories(province, Path(tmp) / "inventories")
        if profiler:
            profiler.disable()
        generate_s = time.perf_counter() - started
        size = sum(p.stat().st_size for p in changed)
        print(f"generate: {len(changed)} files, {size / 1e6:.1f} MB in {generate_s:.2f} s")
        print(f"total (load + generate): {load_s + generate_s:.2f} s")
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main())

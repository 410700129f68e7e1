"""``egov-oss``: the admin commands the platform runs (migrate, load-catalogue) and the benchmark's seed.

All of them use ``admin_dsn`` from the config file (``--config``, else ``$EGOV_OSS_CONFIG``, else
``/etc/egov-oss/config.json``). Errors print ``error: <message>`` on stderr and exit non-zero.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import psycopg

from . import catalogue, config, migrate, seed
from .db import Database
from .errors import ConfigError, OssError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="egov-oss", description="Reference one-stop-shop application: admin commands")
    p.add_argument("--config", help="config file (default $EGOV_OSS_CONFIG or /etc/egov-oss/config.json)")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply the missing schema migrations (safe to run on two nodes at once)")
    load = sub.add_parser("load-catalogue", help="upsert agencies, procedures and holidays from the catalogue")
    load.add_argument("file", nargs="?", help="catalogue JSON (default: 'catalogue' of the config)")
    s = sub.add_parser("seed", help="generate a year of benchmark dossiers in the server")
    s.add_argument("--dossiers", type=int, required=True)
    s.add_argument("--year", type=int, required=True)
    return p


def run(argv: Sequence[str] | None = None) -> int:
    """Run one command; return the exit code (raises :class:`OssError` for the caller to print)."""
    args = _parser().parse_args(argv)
    cfg = config.load(args.config)
    if args.command == "migrate":
        applied = migrate.migrate(cfg.migration_dsn)
        for m in applied:
            print(f"applied {m.version:04d}_{m.name}")
        if not applied:
            print("up to date: nothing to apply")
        return 0
    db = Database(cfg.migration_dsn, statement_timeout_ms=0, pool_size=0)
    if args.command == "load-catalogue":
        path = args.file or cfg.catalogue
        if not path:
            raise ConfigError("no catalogue file given and none in the config")
        counts = catalogue.load(db, catalogue.read(path))
        print(counts.summary())
        return 0
    result = seed.seed(db, args.dossiers, args.year)
    print(f"seeded {result.dossiers} dossiers ({result.history} history rows) over {result.agencies} agencies"
          f" for {args.year}; database size {result.db_size}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """The console script: :func:`run`, with errors turned into a message and an exit code."""
    try:
        return run(argv)
    except OssError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except psycopg.Error as e:
        print(f"error: database: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

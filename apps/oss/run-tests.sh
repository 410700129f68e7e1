#!/bin/sh
# Runs the reference application's tests against a throw-away PostgreSQL 15 made by Debian's pg_virtualenv
# (it exports PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE). Run from anywhere; works as root.
# Extra arguments go to pytest; test paths among them must lie under apps/oss/tests (default: all of it) —
# this script never collects the rest of the repository (its lab tests must not run from here).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
py=python3
[ -x "$root/.venv/bin/python" ] && py="$root/.venv/bin/python"
paths=no
for arg in "$@"; do
  case "$arg" in
    -*) ;;
    *) case "$(realpath -m "$arg")" in
         "$here"/tests|"$here"/tests/*) paths=yes ;;
         *) echo "run-tests.sh: $arg is not under $here/tests" >&2; exit 2 ;;
       esac ;;
  esac
done
[ "$paths" = yes ] || set -- "$@" "$here/tests"
exec pg_virtualenv -v 15 "$py" -m pytest -q -p no:xdist -p no:cacheprovider --rootdir "$here" -c /dev/null "$@"

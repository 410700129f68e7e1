#!/bin/sh
# Commit-confirmed apply of the province policy table (table inet egov_policy) on a Linux firewall.
# Uploaded and run by egov network push/rollback; runs as root (sudo).
#   check   DIR STAGE             nft -c the candidate (nothing is applied)
#   apply   DIR STAGE TIMEOUT     save the running table, arm the revert timer, apply atomically
#   confirm DIR TOKEN             the controller came back in time: keep the new policy
#   revert-after DIR TIMEOUT TOKEN (internal) restore the saved table unless confirmed
# Only this table is replaced (one nft transaction); table inet host_firewall and everything else
# in the ruleset is never touched.
set -u
action=$1
dir=$2
T="table inet egov_policy"
mkdir -p "$dir"
tx() { echo "$T"; echo "delete $T"; [ -n "${1:-}" ] && cat "$1"; true; }
case "$action" in
  check|apply)
    stage=$3
    tx "$stage/candidate.nft" > "$dir/candidate.tx"
    if ! out=$(nft -c -f "$dir/candidate.tx" 2>&1); then
      echo "$out"; echo "EGOV_CHECK_FAILED"; exit 3
    fi
    [ "$action" = check ] && { echo "EGOV_CHECK_OK"; exit 0; }
    if nft -s list table inet egov_policy > "$dir/previous.nft" 2>/dev/null; then
      tx "$dir/previous.nft" > "$dir/rollback.tx"
    else
      tx > "$dir/rollback.tx"
    fi
    token=$(date +%s%N)
    rm -f "$dir/confirmed" "$dir/reverted"
    echo "$token" > "$dir/pending"
    setsid sh "$0" revert-after "$dir" "$4" "$token" </dev/null >/dev/null 2>&1 &
    echo $! > "$dir/revert.pid"
    if ! out=$(nft -f "$dir/candidate.tx" 2>&1); then
      kill "$(cat "$dir/revert.pid")" 2>/dev/null; rm -f "$dir/pending"
      echo "$out"; echo "EGOV_APPLY_FAILED"; exit 4
    fi
    echo "EGOV_APPLIED $token" ;;
  revert-after)
    sleep "$3"
    exec 9>"$dir/lock"; flock -x 9
    if [ "$(cat "$dir/pending" 2>/dev/null)" = "$4" ] && [ ! -e "$dir/confirmed" ]; then
      nft -f "$dir/rollback.tx" && date -u +%FT%TZ > "$dir/reverted"
      rm -f "$dir/pending"
      logger -t egov-commit "policy not confirmed within $3 s: reverted" 2>/dev/null || true
    fi ;;
  confirm)
    exec 9>"$dir/lock"; flock -x 9
    if [ "$(cat "$dir/pending" 2>/dev/null)" != "$3" ]; then echo "EGOV_NOT_PENDING"; exit 5; fi
    touch "$dir/confirmed"; rm -f "$dir/pending"
    kill "$(cat "$dir/revert.pid")" 2>/dev/null
    echo "EGOV_CONFIRMED" ;;
  status)
    [ -e "$dir/reverted" ] && echo "EGOV_REVERTED $(cat "$dir/reverted")"
    [ -e "$dir/pending" ] && echo "EGOV_PENDING"
    echo "EGOV_STATUS_DONE" ;;
  *) echo "usage: $0 check|apply|confirm|status DIR ..." >&2; exit 2 ;;
esac

"""Database access: one multi-host conninfo, a tiny thread-safe pool, the agency set per transaction, one retry.

* **Failover without a config change**: the conninfo may list every database host
  (``host=db1,db2 target_session_attrs=read-write connect_timeout=3``); libpq tries them in turn and keeps the one
  that accepts writes, so a fresh connection after a primary failover lands on the new primary.
* **Pool**: ``psycopg_pool`` is not in Debian 12, so this is a small list of idle connections behind a lock (at most
  ``pool_size`` kept per worker process; ``pool_size = 0`` connects per request). A connection that broke, or is
  not idle, is closed instead of being returned.
* **Tenant**: every transaction starts with ``set_config('egov.agency', <slug>, true)`` (= ``SET LOCAL``), which the
  row-level security policies read, and sets ``statement_timeout`` the same way; both end with the transaction, so
  neither this pool nor pgbouncer's transaction pooling (the platform's) ever carries them to another request.
  No session state is used at all, and no server-side prepared statements (``prepare_threshold=None``).
* **One retry**: a transaction failing with a lost connection (``OperationalError``, not a statement timeout) or
  reaching a standby that became read-only is retried once on a fresh connection — only when the caller says the
  work is safe to repeat (reads, and the intake, which is idempotent by its form token).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import psycopg
from psycopg import errors as pgerrors
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.pq import TransactionStatus
from psycopg.rows import DictRow, dict_row

T = TypeVar("T")
Cursor = psycopg.Cursor[DictRow]


class NotPrimary(psycopg.OperationalError):
    """The pooled connection's server is a standby now (a failover demoted it): drop it, connect again."""


def _retryable(e: Exception) -> bool:
    if isinstance(e, (pgerrors.ReadOnlySqlTransaction, NotPrimary)):
        return True
    return isinstance(e, psycopg.OperationalError) and not isinstance(e, pgerrors.QueryCanceled)


class Database:
    """Connections to the application database; see the module docstring."""

    def __init__(self, conninfo: str, *, statement_timeout_ms: int = 5000, pool_size: int = 4,
                 default_connect_timeout: int = 3) -> None:
        if "connect_timeout" not in conninfo_to_dict(conninfo):
            conninfo = make_conninfo(conninfo, connect_timeout=default_connect_timeout)
        self.conninfo = conninfo
        self.statement_timeout_ms = statement_timeout_ms
        self.pool_size = pool_size
        self._idle: list[psycopg.Connection[DictRow]] = []
        self._lock = threading.Lock()

    def _connect(self) -> psycopg.Connection[DictRow]:
        # prepare_threshold=None: no server-side prepared statements, which pgbouncer's transaction pooling
        # (Debian 12's 1.18) cannot follow from one server connection to the next
        return psycopg.connect(self.conninfo, autocommit=True, row_factory=dict_row, prepare_threshold=None)

    def _get(self) -> psycopg.Connection[DictRow]:
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        return conn if conn is not None and not conn.closed else self._connect()

    def _put(self, conn: psycopg.Connection[DictRow]) -> None:
        if conn.closed or conn.broken or conn.info.transaction_status != TransactionStatus.IDLE:
            conn.close()
            return
        with self._lock:
            if len(self._idle) < self.pool_size:
                self._idle.append(conn)
                return
        conn.close()

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[DictRow]]:
        """A connection from the pool (autocommit; use ``conn.transaction()``); discarded if it fails."""
        conn = self._get()
        try:
            yield conn
        except BaseException:
            conn.close()
            raise
        self._put(conn)

    def run(self, work: Callable[[Cursor], T], *, agency: str | None = None, official: str | None = None,
            retry: bool = False) -> T:
        """Run ``work`` in one transaction with ``egov.agency`` set; retry once on a lost connection if ``retry``."""
        attempts = 2 if retry else 1
        for attempt in range(attempts):
            try:
                with self.connection() as conn, conn.transaction(), conn.cursor() as cur:
                    # pg_is_in_recovery(): a connection kept from before a failover may reach the demoted
                    # member (its pgbouncer and server still up, read-only): never work there
                    cur.execute("SELECT set_config('egov.agency', %s, true), set_config('egov.official', %s, true),"
                                " set_config('statement_timeout', %s, true), pg_is_in_recovery() AS standby",
                                (agency or "", official or "", str(self.statement_timeout_ms)))
                    row = cur.fetchone()
                    if row is not None and row["standby"]:
                        raise NotPrimary("the server is a standby now")
                    return work(cur)
            except (psycopg.OperationalError, pgerrors.ReadOnlySqlTransaction) as e:
                if attempt + 1 >= attempts or not _retryable(e):
                    raise
                self.close()  # after a failover the other idle connections are dead too: retry on a fresh one
        raise AssertionError("unreachable")

    def ping(self, timeout_ms: int = 1000) -> bool:
        """True when a read-write connection answers ``SELECT 1`` within ``timeout_ms`` (for ``/healthz``)."""
        def check(cur: Cursor) -> bool:
            cur.execute("SELECT set_config('statement_timeout', %s, true)", (str(timeout_ms),))
            cur.execute("SELECT 1 AS one, pg_is_in_recovery() AS standby")
            row = cur.fetchone()
            return row is not None and row["one"] == 1 and not row["standby"]
        try:
            return self.run(check, retry=True)
        except psycopg.Error:
            return False

    def close(self) -> None:
        """Close the idle connections (at worker exit)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

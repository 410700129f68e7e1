"""egov_oss — the REFERENCE one-stop-shop (một cửa điện tử) application that the Sóc Trăng app platform hosts.

The province's vendor application was not available, so the repository ships this small application to give the
platform (a pair of app hosts behind the front nginx, a PostgreSQL primary/standby pair, the LemonLDAP::NG SSO and
the LGSP gateway) something real to run, fail over and benchmark. It is replaceable by the vendor's application:
the platform only relies on the WSGI entry ``egov_oss.wsgi:app``, ``/healthz``, the config file and the
``egov-oss migrate`` / ``load-catalogue`` commands.

Modules, one job each: :mod:`.config` (the config file), :mod:`.db` (multi-host conninfo, tiny pool, per-transaction
agency, one retry), :mod:`.migrate` (versioned SQL under an advisory lock), :mod:`.catalogue` (idempotent upsert),
:mod:`.dossiers` (intake, steps, transfers), :mod:`.oidc` (the SSO client), :mod:`.web` (Flask pages and APIs),
:mod:`.seed` (benchmark data), :mod:`.cli` (``egov-oss``).
"""

__version__ = "0.1.0"

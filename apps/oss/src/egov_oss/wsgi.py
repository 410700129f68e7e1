"""The WSGI entry for gunicorn: ``gunicorn -k gthread -c gunicorn.conf.py egov_oss.wsgi:app``.

Importing it only reads the config file (``$EGOV_OSS_CONFIG`` or ``/etc/egov-oss/config.json``) and builds the
Flask app; database connections are opened lazily by the first request in each worker, so a graceful reload or
shutdown has nothing to undo beyond closing idle connections.
"""

from __future__ import annotations

from . import config
from .web import create_app

app = create_app(config.load())

"""Example gunicorn settings for the reference application (gunicorn 20.1, Debian 12's python3-gunicorn).

    gunicorn -c /etc/egov-oss/gunicorn.conf.py egov_oss.wsgi:app

The app listens on the loopback only: the front nginx is its sole client, which is what makes the gateway API's
client-DN header trustworthy (see egov_oss.web). On SIGTERM gunicorn stops accepting, lets running requests finish
within graceful_timeout, and exits; the app holds no state a restart could lose.
"""

bind = "127.0.0.1:8080"
worker_class = "gthread"
workers = 2
threads = 8
timeout = 30
graceful_timeout = 20
keepalive = 5
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"
raw_env = ["EGOV_OSS_CONFIG=/etc/egov-oss/config.json"]

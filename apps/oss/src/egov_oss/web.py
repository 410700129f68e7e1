"""The Flask application: officials' pages, the citizens' lookup, the gateway API and ``/healthz``.

* Officials log in through the SSO (:mod:`.oidc`); the signed session holds the OIDC state/nonce during the login,
  then ``{uid, agency}``. Every page acts as that agency, and row-level security filters what it sees.
* ``/tra-cuu`` and ``/api/v1/public/dossiers/<number>``: no login, through ``oss.public_dossier``.
* ``/api/v1/dossiers/<number>``: the LGSP gateway. The front nginx authenticates the gateway by mutual TLS and
  passes the verified client DN in ``client_dn_header``; the app trusts that header only when the TCP peer
  (``REMOTE_ADDR``, deliberately not X-Forwarded-For) is in ``trusted_proxies`` — anyone else could forge it.
  So the app must listen where only the nginx can reach it (127.0.0.1 by default).
* ``/healthz``: 200 ``ok`` when a read-write connection answers ``SELECT 1`` within a second, else 503.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, Response, abort, flash, g, jsonify, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from . import dossiers
from .config import Config
from .db import Database
from .errors import AuthError, DossierError, NotFound
from .oidc import OidcClient

F = TypeVar("F", bound=Callable[..., Any])

ACTION_LABELS = {"advance": "Xử lý bước tiếp theo", "transfer": "Chuyển bước tiếp theo", "resolve": "Giải quyết xong",
                 "reject": "Từ chối"}


def _peer_trusted(config: Config, addr: str | None) -> bool:
    """Is the request's peer the front proxy? A unix-socket peer (no address) only if ``unix`` is listed."""
    if not addr:
        return UNIX_PEER in config.trusted_proxies
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    return any(ip in net for net in config.proxy_networks())


UNIX_PEER = "unix"   # trusted_proxies entry: the server's unix socket (only the front proxy's group reaches it)


def _csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return str(session["csrf"])


def _check_csrf() -> None:
    sent = request.form.get("csrf", "")
    if not sent or not secrets.compare_digest(sent, session.get("csrf", "")):
        abort(400, "phiên làm việc không hợp lệ (CSRF)")


def login_required(view: F) -> F:
    """Redirect to the SSO unless an official is logged in; expose them as ``g.user``."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        user = session.get("user")
        if not user:
            return redirect(url_for("login", next=request.full_path))
        g.user = user
        return view(*args, **kwargs)
    return cast(F, wrapper)


def create_app(config: Config, *, db: Database | None = None, oidc: OidcClient | None = None,
               secret_key: bytes | None = None) -> Flask:
    """Build the application; no database connection is opened until the first request."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY=secret_key or config.secret_key(), SESSION_COOKIE_SECURE=True,
                      SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_NAME="egov_oss")
    database = db or Database(config.dsn, statement_timeout_ms=config.statement_timeout_ms,
                              pool_size=config.pool_size)
    sso = oidc or (OidcClient(config.oidc) if config.oidc else None)
    app.extensions["egov_oss"] = {"db": database, "oidc": sso, "config": config}
    app.jinja_env.globals.update(csrf_token=_csrf_token, labels=dossiers.LABELS, action_labels=ACTION_LABELS)
    app.jinja_env.filters["vndate"] = lambda d: d.strftime("%d/%m/%Y") if d else ""

    @app.errorhandler(NotFound)
    def not_found(e: NotFound) -> tuple[str, int]:
        return render_template("error.html", message="Không tìm thấy hồ sơ."), 404

    @app.errorhandler(AuthError)
    def auth_failed(e: AuthError) -> tuple[str, int]:
        app.logger.warning("login refused: %s", e)
        return render_template("error.html", message="Đăng nhập không thành công."), 403

    @app.get("/healthz")
    def healthz() -> Response:
        ok = database.ping()
        return Response("ok\n" if ok else "unavailable\n", status=200 if ok else 503, mimetype="text/plain")

    @app.get("/tra-cuu")
    def lookup() -> str:
        number = request.args.get("so", "").strip()
        result = dossiers.public(database, number) if number else None
        return render_template("lookup.html", number=number, result=result)

    @app.get("/api/v1/public/dossiers/<number>")
    def public_api(number: str) -> tuple[Response, int]:
        result = dossiers.public(database, number)
        if result is None:
            return jsonify(error="not found"), 404
        return jsonify(result), 200

    @app.get("/api/v1/dossiers/<number>")
    def gateway_api(number: str) -> tuple[Response, int]:
        client = request.headers.get(config.client_dn_header, "").strip()
        if not client or not _peer_trusted(config, request.remote_addr):
            return jsonify(error="client certificate required (through the front proxy)"), 403
        result = dossiers.gateway(database, number)
        if result is None:
            return jsonify(error="not found"), 404
        return jsonify(result), 200

    @app.get("/login")
    def login() -> BaseResponse:
        if sso is None:
            abort(503, "SSO is not configured")
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        nxt = request.args.get("next", "/")
        session["oidc"] = {"state": state, "nonce": nonce, "next": nxt if nxt.startswith("/") else "/"}
        return redirect(sso.authorization_url(state, nonce))

    @app.get("/oidc/callback")
    def callback() -> BaseResponse:
        pending = session.pop("oidc", None)
        if sso is None or not pending or not secrets.compare_digest(request.args.get("state", ""), pending["state"]):
            raise AuthError("state mismatch or no login in progress")
        if "error" in request.args or "code" not in request.args:
            raise AuthError(f"the SSO answered {request.args.get('error', 'no code')}")
        who = sso.login(request.args["code"], pending["nonce"])
        if not dossiers.agency_exists(database, who.agency):
            raise AuthError(f"unknown agency {who.agency!r} for {who.uid}")
        session.clear()
        session["user"] = {"uid": who.uid, "agency": who.agency}
        return redirect(pending["next"])

    @app.post("/logout")
    def logout() -> BaseResponse:
        _check_csrf()
        session.clear()
        return redirect(url_for("lookup"))

    @app.get("/")
    @login_required
    def index() -> str:
        return render_template("list.html", rows=dossiers.held(database, g.user["agency"]))

    @app.route("/ho-so/moi", methods=["GET", "POST"])
    @login_required
    def new() -> Any:
        if request.method == "POST":
            _check_csrf()
            try:
                number = dossiers.intake(database, g.user["agency"], g.user["uid"], request.form.get("procedure", ""),
                                         request.form.get("applicant_name", ""),
                                         request.form.get("applicant_contact", ""), request.form.get("token", ""))
            except DossierError as e:
                flash(str(e))
                return render_template("intake.html", procedures=dossiers.procedures_for(database, g.user["agency"]),
                                       token=request.form.get("token") or secrets.token_urlsafe(16),
                                       form=request.form), 409
            return redirect(url_for("detail", number=number), code=303)
        return render_template("intake.html", procedures=dossiers.procedures_for(database, g.user["agency"]),
                               token=secrets.token_urlsafe(16), form={})

    @app.get("/ho-so/<number>")
    @login_required
    def detail(number: str) -> str:
        return render_template("detail.html", d=dossiers.get(database, g.user["agency"], number))

    @app.post("/ho-so/<number>/<action>")
    @login_required
    def act(number: str, action: str) -> Any:
        _check_csrf()
        try:
            dossiers.act(database, g.user["agency"], g.user["uid"], number, action, request.form.get("note", ""))
        except NotFound:
            raise
        except DossierError as e:
            flash(str(e))
            return render_template("detail.html", d=dossiers.get(database, g.user["agency"], number)), 409
        return redirect(url_for("detail", number=number), code=303)

    return app

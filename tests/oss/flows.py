"""Real HTTPS flows against the one-stop-shop, run inside a lab client's network namespace.

    ip netns exec egl-oss-<slug> python -m tests.oss.flows intake --user ... --password ... --procedure ...
        --ca lab-ca.pem --resolve motcua.<domain>=<balancer> --resolve sso.<domain>=<sso-01>

An official logs in through the SSO (OpenID Connect code flow of the relying party `oss`); every flow
prints one JSON object, the evidence the tests assert on (tests/sso/flows.py: names pinned with
--resolve, TLS verified against the lab CA only).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse

import requests

from tests.sso.flows import _portal_post, _session, forms, run_flow


def _login(args: argparse.Namespace) -> tuple[requests.Session, requests.Response]:
    """Through the application's /login to the SSO, the password form, and back (a session cookie)."""
    s = _session(args.ca)
    first = s.get(f"https://{args.app}/login", timeout=30)
    if urlparse(first.url).hostname != args.sso:
        raise RuntimeError(f"/login did not lead to the SSO but to {first.url} ({first.status_code})")
    done = _portal_post(s, first, {"lmAuth": "1_Password", "user": args.user, "password": args.password})
    return s, done


def _form(page: requests.Response, action_suffix: str) -> dict[str, Any]:
    """The page's form posting to a path ending ``action_suffix`` (no action: the page itself)."""
    for form in forms(page.text):
        target = urlparse(urljoin(page.url, form["action"] or page.url)).path
        if target.endswith(action_suffix) and "csrf" in form["fields"]:
            return form
    raise RuntimeError(f"no form ending {action_suffix!r} on {page.url} ({page.status_code})")


def intake(args: argparse.Namespace) -> dict[str, Any]:
    """Record a dossier at the counter: its number, and the same form posted twice is one dossier."""
    s, home = _login(args)
    page = s.get(f"https://{args.app}/ho-so/moi", timeout=30)
    form = _form(page, "/ho-so/moi")
    fields = dict(form["fields"], procedure=args.procedure, applicant_name=args.applicant,
                  applicant_contact="0299 3822 000")
    t0 = time.monotonic()
    target = urljoin(page.url, form["action"] or page.url)
    done = s.post(target, data=fields, timeout=30)
    again = s.post(target, data=fields, timeout=30)   # a retried submit: the same dossier
    number = urlparse(done.url).path.rsplit("/", 1)[-1]
    return {"logged_in": urlparse(home.url).hostname == args.app and home.status_code == 200,
            "status": done.status_code, "number": number, "url": done.url,
            "retry_same_number": urlparse(again.url).path.rsplit("/", 1)[-1] == number,
            "seconds": round(time.monotonic() - t0, 3)}


def act(args: argparse.Namespace) -> dict[str, Any]:
    """An action on a dossier this official's agency holds (next step, transfer, resolve, reject)."""
    s, _ = _login(args)
    page = s.get(f"https://{args.app}/ho-so/{args.number}", timeout=30)
    if page.status_code != 200:
        return {"status": page.status_code, "acted": False}
    form = _form(page, f"/{args.action}")
    done = s.post(urljoin(page.url, form["action"]), data=dict(form["fields"], note=args.note), timeout=30)
    return {"status": done.status_code, "acted": done.status_code == 200, "url": done.url,
            "page": done.text[:4000]}


def view(args: argparse.Namespace) -> dict[str, Any]:
    """What this official's agency sees of a dossier and of its list."""
    s, _ = _login(args)
    page = s.get(f"https://{args.app}/ho-so/{args.number}", timeout=30)
    listing = s.get(f"https://{args.app}/", timeout=30)
    return {"status": page.status_code, "in_list": args.number in listing.text, "page": page.text[:4000]}


def lookup(args: argparse.Namespace) -> dict[str, Any]:
    """A citizen (no login): the public lookup page and its JSON."""
    s = _session(args.ca)
    page = s.get(f"https://{args.app}/tra-cuu", params={"so": args.number}, timeout=30)
    api = s.get(f"https://{args.app}/api/v1/public/dossiers/{args.number}", timeout=30)
    return {"status": page.status_code, "page": page.text[:6000], "api_status": api.status_code,
            "api": api.json() if api.headers.get("content-type", "").startswith("application/json") else None}


def _timed(seconds: float, workers: int, one: Any) -> dict[str, Any]:
    """Run ``one(worker)`` in a loop on ``workers`` threads for ``seconds``; each call returns (ok, detail).
    Also the throughput and the latency percentiles of the calls that succeeded (the benchmark's figures)."""
    import threading
    results: list[tuple[float, bool, str, float]] = []
    lock = threading.Lock()
    end = time.monotonic() + seconds
    t0 = time.monotonic()

    def loop(worker: int) -> None:
        while time.monotonic() < end:
            started = time.monotonic()
            try:
                ok, detail = one(worker)
            except (requests.exceptions.RequestException, RuntimeError) as exc:
                ok, detail = False, type(exc).__name__
            with lock:
                results.append((round(time.monotonic() - t0, 2), ok, detail, time.monotonic() - started))

    threads = [threading.Thread(target=loop, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    failed = [(at, detail) for at, ok, detail, _ in results if not ok]
    took = sorted(d for _, ok, _, d in results if ok)
    return {"requests": len(results), "failed": len(failed), "failures": failed[:50],
            "ok_details": [detail for _, ok, detail, _ in results if ok],
            "ok_at": [at for at, ok, _, _ in results if ok],
            "rps": round(len(took) / elapsed, 1) if elapsed else 0.0,
            "p50": round(took[len(took) // 2], 3) if took else None,
            "p95": round(took[min(len(took) - 1, int(len(took) * 0.95))], 3) if took else None}


def stream_lookup(args: argparse.Namespace) -> dict[str, Any]:
    """Citizens' lookups (the public API, a database read each) through the balancer, for --seconds: of
    --number, or of numbers drawn at random from --numbers-file (one per line: the benchmark's sample)."""
    import random
    sessions = [_session(args.ca) for _ in range(args.workers)]
    numbers = ([n for n in Path(args.numbers_file).read_text(encoding="utf-8").split() if n]
               if args.numbers_file else [args.number])

    def one(worker: int) -> tuple[bool, str]:
        number = random.choice(numbers)
        r = sessions[worker].get(f"https://{args.app}/api/v1/public/dossiers/{number}", timeout=10)
        return r.status_code == 200, str(r.status_code)

    result = _timed(args.seconds, args.workers, one)
    result.pop("ok_details")
    result.pop("ok_at")
    return result


def stream_intake(args: argparse.Namespace) -> dict[str, Any]:
    """An official recording dossiers for --seconds (one logged-in session per worker): the numbers the
    application confirmed (303 to the dossier's page) are the committed ones."""
    sessions = [_login(args)[0] for _ in range(args.workers)]

    def one(worker: int) -> tuple[bool, str]:
        s = sessions[worker]
        page = s.get(f"https://{args.app}/ho-so/moi", timeout=10)
        form = _form(page, "/ho-so/moi")
        fields = dict(form["fields"], procedure=args.procedure, applicant_name=args.applicant,
                      applicant_contact="0299 3822 000")
        done = s.post(urljoin(page.url, form["action"] or page.url), data=fields, timeout=10)
        number = urlparse(done.url).path.rsplit("/", 1)[-1]
        ok = done.status_code == 200 and "/ho-so/" in done.url and number != "moi"
        return ok, number if ok else str(done.status_code)

    result = _timed(args.seconds, args.workers, one)
    result["numbers"] = sorted(set(result.pop("ok_details")))
    ok_at = result.pop("ok_at")
    result["last_ok_at"] = max(ok_at, default=None)
    result["started_at"] = time.time() - args.seconds
    result["failures"] = result["failures"][:5]
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("flow", choices=["intake", "act", "view", "lookup", "stream-lookup", "stream-intake"])
    p.add_argument("--app", required=True)
    p.add_argument("--sso", required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--user", default="")
    p.add_argument("--password", default="")
    p.add_argument("--procedure", default="")
    p.add_argument("--applicant", default="Nguyễn Văn An")
    p.add_argument("--number", default="")
    p.add_argument("--numbers-file", default="")
    p.add_argument("--action", default="")
    p.add_argument("--note", default="")
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--resolve", action="append", default=[], help="name=address")
    args = p.parse_args(argv)
    flow = {"intake": intake, "act": act, "view": view, "lookup": lookup, "stream-lookup": stream_lookup,
            "stream-intake": stream_intake}[args.flow]
    return run_flow(flow, args, errors=(requests.exceptions.RequestException, RuntimeError))


if __name__ == "__main__":
    raise SystemExit(main())

"""A real browser for the web tests: Debian's headless Chromium driven by Selenium and chromium-driver.

    ip netns exec <netns> .venv/bin/python tests/browser.py '<json request>'     (a lab client's network)
    browse(request)                                                              (in this process)

The request names the pages to visit and what to do on them; the result (one JSON object on stdout)
gives, per step, the page's URL, title, first heading and links, and the screenshots taken. Run
inside a LAN client's network namespace, Chromium's packets cross the site firewall, the DC
firewall and the balancer as a citizen's would. Certificates are verified as a browser does, against
the given CA only (an NSS database of a throw-away profile, `certutil`): no --ignore-certificate-errors.
Names are mapped to addresses with --host-resolver-rules (the lab clients have no resolver of their
own; the DNS tests prove what the province's resolvers answer).

Request: {"cafile": "<pem>", "resolve": {"<name>": "<address>"}, "screenshots": "<dir>",
          "steps": [{"get": "<url>"} | {"click": "<link text or href part>"} | {"shot": "<name>"}
                    | {"login": {"user": "...", "password": "...", "form": "<CSS selector>"}}],
          "timeout": <seconds per page load>}
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CERT_ERRORS = ("ERR_CERT_", "Your connection is not private", "Privacy error")


def available() -> str:
    """Empty when the browser can run here, else what is missing."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER, shutil.which("certutil") or "certutil") if not Path(p).exists()]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (requirements/test.txt)")
    return ", ".join(missing)


def _profile(home: Path, cafile: str | None) -> None:
    """A throw-away NSS database trusting only `cafile` for TLS servers (Chromium's store on Linux)."""
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    subprocess.run(["certutil", "-N", "--empty-password", "-d", f"sql:{nssdb}"], check=True, timeout=30,
                   capture_output=True)
    if cafile:
        subprocess.run(["certutil", "-A", "-d", f"sql:{nssdb}", "-n", "egov-test-ca", "-t", "C,,", "-i", cafile],
                       check=True, timeout=30, capture_output=True)


def _page(driver: Any) -> dict[str, Any]:
    from selenium.webdriver.common.by import By

    source = driver.page_source
    heading = driver.find_elements(By.CSS_SELECTOR, "h1")
    links = [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "a[href]")][:300]
    return {"url": driver.current_url, "title": driver.title, "h1": heading[0].text if heading else "",
            "links": [link for link in links if link], "cert_error": any(m in source or m in driver.title
                                                                         for m in CERT_ERRORS)}


def _click(driver: Any, target: str) -> None:
    from selenium.webdriver.common.by import By

    for anchor in driver.find_elements(By.CSS_SELECTOR, "a[href]"):
        if target == anchor.text.strip() or target in (anchor.get_attribute("href") or ""):
            driver.get(anchor.get_attribute("href"))     # the link's own target, as a click would load
            return
    raise LookupError(f"no link {target!r} on {driver.current_url}")


def _login(driver: Any, spec: dict[str, str]) -> None:
    from selenium.webdriver.common.by import By

    form = driver.find_element(By.CSS_SELECTOR, spec.get("form", "form"))
    form.find_element(By.CSS_SELECTOR, spec.get("user_field", "input[name=user]")).send_keys(spec["user"])
    form.find_element(By.CSS_SELECTOR, spec.get("password_field", "input[name=password]")).send_keys(
        spec["password"])
    form.submit()


def browse(request: dict[str, Any]) -> dict[str, Any]:
    """Run the request's steps in one headless Chromium; never raises for a page error (it is reported)."""
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service

    shots = Path(request.get("screenshots") or tempfile.gettempdir())
    shots.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"steps": [], "screenshots": [], "error": ""}
    with tempfile.TemporaryDirectory(prefix="egov-browser-") as tmp:
        home = Path(tmp)
        _profile(home, request.get("cafile"))
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--no-first-run", "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--disable-default-apps", "--window-size=1280,1024",
                    f"--user-data-dir={home / 'profile'}"):
            options.add_argument(arg)
        rules = [f"MAP {name} {address}" for name, address in request.get("resolve", {}).items()]
        options.add_argument("--host-resolver-rules=" + ", ".join([*rules, "EXCLUDE localhost"]))
        service = Service(CHROMEDRIVER, env={**os.environ, "HOME": str(home)})
        driver = webdriver.Chrome(options=options, service=service)
        driver.set_page_load_timeout(float(request.get("timeout", 30)))
        try:
            for step in request["steps"]:
                if "get" in step:
                    driver.get(step["get"])
                elif "click" in step:
                    _click(driver, step["click"])
                elif "login" in step:
                    _login(driver, step["login"])
                elif "shot" in step:
                    path = shots / f"{step['shot']}.png"
                    driver.save_screenshot(str(path))
                    result["screenshots"].append(str(path))
                    continue
                result["steps"].append({"step": step if "login" not in step else "login", **_page(driver)})
        except (WebDriverException, LookupError) as exc:
            result["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        finally:
            driver.quit()
    return result


if __name__ == "__main__":
    print(json.dumps(browse(json.loads(sys.argv[1])), ensure_ascii=False))

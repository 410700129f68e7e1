"""The site's link checker: every href/src/action of every page must reach a file of the site.

Used by the tests and by `egov report --check-links`. Links that only work with JavaScript
(``href="#"``, ``javascript:``) and links leaving the site (a scheme, ``//host``) are faults
too: the site is read offline, with JavaScript off.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

LINK_ATTRS = {"href", "src", "action"}


@dataclass(frozen=True)
class Link:
    page: str                 # the page holding it, relative to the site's top
    attr: str
    target: str


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in LINK_ATTRS and value is not None:
                self.found.append((name, value))


def links(site: Path) -> Iterator[Link]:
    """Every link of every page under site."""
    for page in sorted(site.rglob("*.html")):
        collector = _Collector()
        collector.feed(page.read_text(encoding="utf-8"))
        for attr, target in collector.found:
            yield Link(str(page.relative_to(site)), attr, target)


def link_problem(site: Path, link: Link) -> str | None:
    """Why a link is broken, or None when it reaches a file of the site."""
    target = link.target.strip()
    if target in ("", "#"):
        return "empty or '#' link (needs JavaScript)"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return f"leaves the site ({parts.scheme or 'network'} link)" if parts.scheme != "javascript" else \
            "javascript: link"
    if not parts.path:
        return None           # a fragment of the same page
    resolved = ((site / link.page).parent / unquote(parts.path)).resolve()
    if not resolved.is_relative_to(site.resolve()):
        return "points outside the site"
    if not resolved.is_file():
        return "no such file"
    return None


def broken_links(site: Path) -> list[str]:
    """'<page>: <attr>=<target>: <why>' for every broken link of the site (empty: all links resolve)."""
    out = []
    for link in links(site):
        problem = link_problem(site, link)
        if problem:
            out.append(f"{link.page}: {link.attr}={link.target!r}: {problem}")
    return out


def reachable(site: Path, start: str = "index.html") -> dict[str, int]:
    """Page -> the fewest clicks from start (breadth-first over the pages' href links)."""
    targets: dict[str, set[str]] = {}
    for link in links(site):
        if link.attr != "href" or link_problem(site, link):
            continue
        path = urlsplit(link.target).path
        if not path:
            continue
        resolved = ((site / link.page).parent / unquote(path)).resolve()
        targets.setdefault(link.page, set()).add(str(resolved.relative_to(site.resolve())))
    depth = {start: 0}
    frontier = [start]
    while frontier:
        following = []
        for page in frontier:
            for target in sorted(targets.get(page, ())):
                if target.endswith(".html") and target not in depth:
                    depth[target] = depth[page] + 1
                    following.append(target)
        frontier = following
    return depth

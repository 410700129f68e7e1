"""HTML building blocks with escaping by type: :class:`Html` is markup, any other ``str`` is text.

Every helper escapes plain strings with :func:`html.escape` and passes :class:`Html` through, so
a model name (Vietnamese, possibly with ``&`` or ``<``) can never become markup by accident.
Pages link relatively (``root`` is the way back to the site's top), so the site reads offline
from any directory and with JavaScript off.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

STATUS_CLASS = {"passed": "ok", "ok": "ok", "failed": "bad", "error": "bad", "waived": "warn",
                "not applicable": "na", "skipped": "na", "not run": "na", "no evidence": "none"}
NO_EVIDENCE = "no evidence in this run"


class Html(str):
    """A string that is already markup (never escaped again)."""

    __slots__ = ()


Cell = str | int | float | Html


def text(value: Cell) -> Html:
    """Markup for a cell: Html as is, anything else escaped."""
    return value if isinstance(value, Html) else Html(html.escape(str(value), quote=True))


def join(parts: Iterable[Cell], sep: str = "") -> Html:
    return Html(html.escape(sep).join(text(p) for p in parts))


def tag(name: str, content: Cell = "", **attrs: str) -> Html:
    """<name attr="...">content</name>; attribute names: trailing '_' dropped, '_' -> '-'."""
    rendered = "".join(f' {k.rstrip("_").replace("_", "-")}="{html.escape(v, quote=True)}"' for k, v in attrs.items())
    return Html(f"<{name}{rendered}>{text(content)}</{name}>")


def link(href: str, label: Cell) -> Html:
    return tag("a", label, href=href)


def status(value: str) -> Html:
    """A status word styled by its meaning (ok / bad / warn / not applicable / none)."""
    return tag("span", value, class_=f"st {STATUS_CLASS.get(value, 'none')}")


def table(headers: Sequence[str], rows: Iterable[Sequence[Cell]], empty: str = NO_EVIDENCE) -> Html:
    body = [tag("tr", join(tag("td", cell) for cell in row)) for row in rows]
    if not body:
        return tag("p", empty, class_="none")
    head = tag("tr", join(tag("th", h) for h in headers))
    return tag("table", join([tag("thead", head), tag("tbody", join(body))]))


def dl(pairs: Iterable[tuple[str, Cell]]) -> Html:
    return tag("dl", join(join([tag("dt", k), tag("dd", v)]) for k, v in pairs))


def ul(items: Iterable[Cell], empty: str = NO_EVIDENCE) -> Html:
    entries = [tag("li", item) for item in items]
    return tag("ul", join(entries)) if entries else tag("p", empty, class_="none")


def section(title: str, *content: Cell, id_: str = "") -> Html:
    attrs = {"id": id_} if id_ else {}
    return tag("section", join([tag("h2", title), *content]), **attrs)


def page(title: str, root: str, crumbs: Sequence[tuple[str, str]], body: Html, generated: str) -> str:
    """A whole page: UTF-8, the one stylesheet, breadcrumbs (plain links), the search form, no script."""
    trail = join([link(f"{root}{href}", label) for href, label in crumbs] + [tag("span", title)], " › ")
    search = Html(f'<form class="search" action="{root}search.html" method="get">'
                  '<label>Search <input type="search" name="q"></label> <button type="submit">Go</button></form>')
    return ("<!DOCTYPE html>\n"
            f'<html lang="vi"><head><meta charset="utf-8"><title>{text(title)}</title>'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<link rel="stylesheet" href="{root}style.css"></head>\n'
            f"<body><header>{tag('nav', trail, class_='crumbs')}{search}</header>\n"
            f"<main>{tag('h1', title)}{body}</main>\n"
            f"<footer>{text(generated)}</footer></body></html>\n")

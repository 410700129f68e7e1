"""The site's one stylesheet and its one script, as text written next to the pages.

Kept in Python (not package data) so an installed egov writes them without any
`package-data` setting. The script only filters the search page; navigation never needs it.
It reads the index from search-index.js (the JSON index as one assignment) because browsers
refuse fetch() of a local JSON file when the site is opened from disk (file://).
"""

from __future__ import annotations

CSS = """\
body { font-family: system-ui, "Segoe UI", "Noto Sans", sans-serif; margin: 0; color: #1b1b1b; line-height: 1.4; }
header { display: flex; flex-wrap: wrap; justify-content: space-between; gap: .5em; padding: .5em 1em;
  background: #0b3d6b; color: #fff; }
header a { color: #fff; }
main { padding: 0 1em 2em; max-width: 80em; }
footer { padding: .5em 1em; color: #555; font-size: .85em; border-top: 1px solid #ddd; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border: 1px solid #ccc; padding: .2em .5em; text-align: left; vertical-align: top; }
th { background: #eef2f6; }
code { font-size: .9em; }
dl { display: grid; grid-template-columns: max-content auto; gap: .2em 1em; }
dt { font-weight: 600; }
dd { margin: 0; }
.st { padding: 0 .4em; border-radius: .3em; white-space: nowrap; }
.ok { background: #d7f2dc; } .bad { background: #f8d0d0; font-weight: 600; } .warn { background: #fbecc4; }
.na { background: #e8e8e8; } .none { color: #666; font-style: italic; }
.cards { display: flex; flex-wrap: wrap; gap: .5em; padding: 0; list-style: none; }
.cards li { border: 1px solid #ccc; border-radius: .3em; padding: .4em .8em; }
form.search input { width: 14em; }
"""

SEARCH_JS = """\
// Filters the search page with the index of search-index.js; without JavaScript the page lists every page.
(function () {
  var index = window.EGOV_SEARCH_INDEX || [];
  var input = document.getElementById("q"), results = document.getElementById("results");
  var all = document.getElementById("all");
  if (!input || !results) { return; }
  function fold(s) { return s.normalize("NFD").replace(/[\\u0300-\\u036f]/g, "").replace(/[đĐ]/g, "d").toLowerCase(); }
  function show() {
    var words = fold(input.value).split(/\\s+/).filter(Boolean);
    results.textContent = "";
    all.hidden = words.length > 0;
    if (!words.length) { return; }
    index.filter(function (e) {
      var hay = fold(e.t + " " + e.k);
      return words.every(function (w) { return hay.indexOf(w) >= 0; });
    }).slice(0, 200).forEach(function (e) {
      var li = document.createElement("li"), a = document.createElement("a");
      a.href = e.u; a.textContent = e.t; li.appendChild(a); results.appendChild(li);
    });
  }
  input.value = new URLSearchParams(window.location.search).get("q") || "";
  input.addEventListener("input", show);
  show();
})();
"""

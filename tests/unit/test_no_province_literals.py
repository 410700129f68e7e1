"""Nothing province-specific outside the model: roles, stacks, playbooks and molecule scenarios take
the province's names and domain from the model (generated inventories, stack config), so another
province gets its own by changing the model only."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from egov.model import Province, load_province
from tests.conftest import MODEL_DIR, REPO

SCANNED = ("roles", "stacks", "playbooks", "molecule")
SKIPPED_PARTS = {"__pycache__", "venv", ".venv", "node_modules"}


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in folded if not unicodedata.combining(c))


def province_literals(province: Province) -> list[str]:
    """The province's names, slug and domain, with and without diacritics and separators."""
    names = {province.short_name, province.slug, province.domain, province.domain.split(".")[0]}
    out: set[str] = set()
    for name in names:
        for variant in (name, _ascii(name)):
            out.add(variant.lower())
            out.add(re.sub(r"[\s_-]+", " ", variant).lower())
            out.add(re.sub(r"[\s_-]+", "", variant).lower())
    return sorted(v for v in out if len(v) >= 4)


def find_literals(roots: list[Path], literals: list[str]) -> list[str]:
    """`path:line: literal` for every line under roots that names the province."""
    pattern = re.compile("|".join(re.escape(x) for x in sorted(literals, key=len, reverse=True)))
    hits = []
    for root in roots:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            if SKIPPED_PARTS & set(path.parts):
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            for number, line in enumerate(text.splitlines(), 1):
                for seen in (line.lower(), re.sub(r"[\s_-]+", " ", _ascii(line)).lower()):
                    match = pattern.search(seen)
                    if match:
                        hits.append(f"{path.relative_to(root.parent)}:{number}: {match.group(0)!r}")
                        break
    return hits


@pytest.fixture(scope="module")
def province() -> Province:
    return load_province(MODEL_DIR / "province.yml")


def test_roles_stacks_playbooks_name_no_province(province: Province) -> None:
    hits = find_literals([REPO / d for d in SCANNED], province_literals(province))
    assert hits == [], "province-specific literals outside the model:\n" + "\n".join(hits)


def test_a_literal_is_found_in_any_spelling(province: Province, tmp_path: Path) -> None:
    role = tmp_path / "roles" / "x" / "defaults"
    role.mkdir(parents=True)
    (role / "main.yml").write_text(f"a: ok\nb: 'mail.{province.domain}'\nc: {_ascii(province.short_name).upper()}\n"
                                   f"d: {province.short_name}\n", encoding="utf-8")
    hits = find_literals([tmp_path / "roles"], province_literals(province))
    assert [h.split(":")[1] for h in hits] == ["2", "3", "4"], hits


# -- molecule's sample commune: one env name (EGOV_MOLECULE_SITE) with the province's sample as default --
SAMPLE_SITE = re.compile(r"\$\{EGOV_MOLECULE_SITE:-([a-z0-9-]+)\}")


def sample_site_problems(root: Path, slugs: set[str]) -> tuple[set[str], list[str]]:
    """(the defaults of ${EGOV_MOLECULE_SITE:-...} under root, `path:line` of every other use of them)."""
    files = sorted(p for p in root.rglob("*.yml") if p.is_file())
    defaults = {m for p in files for m in SAMPLE_SITE.findall(p.read_text(encoding="utf-8"))}
    problems = [f"{d}: not a site of the model" for d in sorted(defaults - slugs)]
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            rest = SAMPLE_SITE.sub("", line)
            problems += [f"{path.relative_to(root.parent)}:{number}: {slug}" for slug in sorted(defaults)
                         if re.search(rf"(?<![a-z0-9]){re.escape(slug)}(?![a-z0-9])", rest)]
    return defaults, problems


def test_molecule_takes_its_sample_commune_from_one_variable(province: Province) -> None:
    defaults, problems = sample_site_problems(REPO / "molecule", {s.slug for s in province.sites})
    assert len(defaults) == 1, f"one default sample site, not {sorted(defaults)}"
    assert problems == [], "the sample commune outside ${EGOV_MOLECULE_SITE:-...}:\n" + "\n".join(problems)


def test_a_hard_coded_sample_commune_is_named(province: Province, tmp_path: Path) -> None:
    slug = province.sites[0].slug
    scenario = tmp_path / "molecule" / "x"
    scenario.mkdir(parents=True)
    (scenario / "molecule.yml").write_text(
        f'platforms:\n  - {{name: "fw-${{EGOV_MOLECULE_SITE:-{slug}}}"}}\n  - {{name: fw-{slug}}}\n'
        f'  # egl-pc-{slug}x is another name\n  - {{name: "${{EGOV_MOLECULE_SITE:-no-such-site}}"}}\n',
        encoding="utf-8")
    defaults, problems = sample_site_problems(tmp_path / "molecule", {s.slug for s in province.sites})
    assert defaults == {slug, "no-such-site"}
    assert problems == ["no-such-site: not a site of the model", f"molecule/x/molecule.yml:3: {slug}"]

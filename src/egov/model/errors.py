"""Problems found while loading the model, each naming file, key path and what is wrong."""

from __future__ import annotations

from dataclasses import dataclass

from egov.errors import EgovError


@dataclass(frozen=True, order=True)
class ModelIssue:
    file: str
    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path or '<root>'}: {self.message}"


class ModelError(EgovError):
    """Raised with every problem found, never only the first one."""

    def __init__(self, issues: list[ModelIssue]) -> None:
        self.issues = sorted(issues, key=lambda i: (i.file, i.line or 0, i.path, i.message))
        super().__init__(self.render())

    def render(self) -> str:
        count = len(self.issues)
        head = f"the province model has {count} problem{'s' if count != 1 else ''}:"
        return "\n".join([head, *(f"  - {issue}" for issue in self.issues)])


def format_path(loc: tuple[object, ...] | list[object]) -> str:
    """('services', 'mail', 'hosts') -> services.mail.hosts ; ints -> [n]."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out

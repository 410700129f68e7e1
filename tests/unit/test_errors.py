"""One error base (egov.errors.EgovError) with an exit code, caught in one place: egov.cli main."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from egov.cli import main
from egov.cloud.handoff import HandoffError
from egov.cloud.stack_config import StackConfigError
from egov.errors import EgovError
from egov.lab.manager import LabError
from egov.lab.sh import CommandError
from egov.lab.topology import SelectionError
from egov.model import ModelError
from egov.model.officials import DirectoryError
from egov.network.credentials import CredentialsError
from egov.network.errors import DeviceError
from tests.conftest import REPO


@pytest.mark.parametrize("error", [ModelError, DirectoryError, DeviceError, CredentialsError, LabError, CommandError,
                                   SelectionError, StackConfigError, HandoffError])
def test_every_error_of_the_tooling_is_an_egov_error(error: type[Exception]) -> None:
    assert issubclass(error, EgovError)
    assert isinstance(error.exit_code, int) and error.exit_code != 0  # type: ignore[attr-defined]


def test_the_older_bases_still_hold() -> None:
    """`except ValueError` / `except RuntimeError` around them keep working."""
    assert issubclass(DirectoryError, ValueError) and issubclass(HandoffError, ValueError)
    assert issubclass(LabError, RuntimeError) and issubclass(CommandError, RuntimeError)


class QuotaError(EgovError):
    exit_code = 7


def _boom_command(exc: Exception) -> click.Command:
    @click.command("boom")
    def boom() -> None:
        raise exc

    return boom


def test_the_cli_prints_the_message_and_exits_with_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(main.commands, "boom", _boom_command(QuotaError("mail quota of kinh-nam is full")))
    result = CliRunner().invoke(main, ["boom"])
    assert result.exit_code == 7
    assert result.stderr.strip() == "error: mail quota of kinh-nam is full"
    assert "Traceback" not in result.output


def test_the_default_exit_code_is_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(main.commands, "boom", _boom_command(LabError("the lab needs root")))
    result = CliRunner().invoke(main, ["boom"])
    assert result.exit_code == 2
    assert "error: the lab needs root" in result.stderr


def test_other_exceptions_are_not_swallowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(main.commands, "boom", _boom_command(KeyError("bug")))
    result = CliRunner().invoke(main, ["boom"])
    assert result.exit_code == 1 and isinstance(result.exception, KeyError)


def test_python_m_egov_help() -> None:
    result = subprocess.run([sys.executable, "-m", "egov", "--help"], cwd=REPO, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: egov ")
    for group in ("model", "inventory", "lab", "converge", "run"):
        assert f"  {group} " in result.stdout


def test_python_m_egov_runs_a_command() -> None:
    result = subprocess.run([sys.executable, "-m", "egov", "inventory", "--help"], cwd=REPO, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "Usage: egov inventory" in result.stdout

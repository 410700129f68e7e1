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


# -- the subcommands raise EgovErrors; nothing prints its own "error:" and exits ------------------
def test_load_or_exit_raises_the_model_error_for_the_handler(tmp_path) -> None:
    from egov.cliutil import load_or_exit

    bad = tmp_path / "province.yml"
    bad.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(ModelError):
        load_or_exit(bad)


def test_a_missing_sdk_is_a_dependency_error(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from egov.errors import DependencyError

    monkeypatch.setitem(sys.modules, "egov.cloud.mocked_run", None)    # `import` of it raises ImportError
    result = CliRunner().invoke(main, ["cloud", "plan", "--out", str(tmp_path)])
    assert result.exit_code == DependencyError.exit_code == 2, result.output
    assert result.stderr.startswith("error: the Pulumi SDKs are not installed")
    assert not list(tmp_path.iterdir()), "nothing written"


def test_a_bad_stack_input_is_a_plan_error(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    import egov.cloud.mocked_run

    def broken(*_args: object, **_kw: object) -> None:
        raise ValueError("flavor m1.huge is not in the catalogue")

    monkeypatch.setattr(egov.cloud.mocked_run, "run_mocked", broken)
    result = CliRunner().invoke(main, ["cloud", "plan", "--stack", "prod", "--out", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == "error: stack prod: flavor m1.huge is not in the catalogue"
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_the_cloud_group_alone_has_the_same_handler(tmp_path) -> None:
    """`python -m egov.cloud handoff` on a missing file: the message and exit 2, not a traceback."""
    missing = tmp_path / "none.json"
    result = subprocess.run([sys.executable, "-m", "egov.cloud", "handoff", "--outputs", str(missing),
                             "--out", str(tmp_path / "o.yml")], cwd=REPO, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"error: {missing}") and "Traceback" not in result.stderr
    assert not (tmp_path / "o.yml").exists()


def test_lab_ping_with_no_host_up_is_a_lab_error(tmp_path) -> None:
    result = CliRunner().invoke(main, ["lab", "ping", "--state", str(tmp_path)])
    assert result.exit_code == LabError.exit_code == 2, result.output
    assert result.stderr.strip() == "error: no lab host is up; run `egov lab up` first"


def test_an_empty_seed_file_is_a_directory_error(tmp_path) -> None:
    seed = tmp_path / "officials-seed"
    seed.write_text("\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["directory", "password", "nguyen.van.a", "--seed-file", str(seed)])
    assert result.exit_code == DirectoryError.exit_code == 2, result.output
    assert result.stderr.strip() == f"error: --seed-file {seed} is empty"
    assert result.stdout == ""


@pytest.mark.parametrize("stdin", ["not json", '["a list"]', '{"ldap": ""}'])
def test_bad_ssha_input_is_a_directory_error(stdin: str) -> None:
    result = CliRunner().invoke(main, ["directory", "ssha"], input=stdin)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: stdin: ") and result.stdout == ""


def test_good_ssha_input_still_works() -> None:
    result = CliRunner().invoke(main, ["directory", "ssha"], input='{"ldap": "s3cret"}')
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith('{"ldap": "{SSHA}')


def test_an_unavailable_group_is_a_dependency_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from egov.cli import _unavailable

    monkeypatch.setitem(main.commands, "fleet", _unavailable("fleet", ImportError("No module named 'paramiko'")))
    result = CliRunner().invoke(main, ["fleet", "--any", "arg"])
    assert result.exit_code == 2
    assert result.stderr.strip() == ("error: `egov fleet` needs packages that are not installed "
                                     "(No module named 'paramiko'); run `make deps`")


def test_a_policy_violation_exits_1_after_writing_the_plan(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    import egov.cloud.policy_run

    found = [egov.cloud.policy_run.Violation("no-public-db", "mail-db", "the database has a floating IP")]
    monkeypatch.setattr(egov.cloud.policy_run, "run_policies", lambda *_a, **_k: found)
    result = CliRunner().invoke(main, ["cloud", "plan", "--stack", "prod", "--out", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert result.stderr.strip() == f"error: stack prod: 1 policy violation(s); see {tmp_path}/plan-prod.md"
    assert "[no-public-db] mail-db: the database has a floating IP" in result.stdout
    assert (tmp_path / "plan-prod.md").is_file()

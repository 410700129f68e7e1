"""`egov cloud ...`: the mocked plan of a stack and the hand-off of its outputs to Ansible."""

from __future__ import annotations

import json
from pathlib import Path

import click

from egov.cliutil import EgovGroup, load_or_exit
from egov.cloud.handoff import DEFAULT_OUTPUT, handoff
from egov.cloud.paths import STACKS
from egov.cloud.stack_config import read_policy_config
from egov.errors import DependencyError, EgovError
from egov.model import DEFAULT_MODEL

# `plan` needs the Pulumi SDKs (requirements/stacks.txt); they are imported when it runs, so the
# rest of the `egov` CLI works on a controller without them.
MISSING_SDK = "the Pulumi SDKs are not installed: pip install -r requirements/stacks.txt ({error})"
MODEL_OPTION = click.option("--model", "model_path", default=str(DEFAULT_MODEL), show_default=True,
                            type=click.Path(dir_okay=False), help="province model file")


class PlanError(EgovError):
    """The mocked program or its policy pack could not run (a bad value in the stack's inputs)."""


class PolicyViolation(EgovError):
    """The plan ran and the policy pack found violations: exit 1 ("it ran and found failures")."""

    exit_code = 1


# ModelError, StackConfigError and HandoffError are EgovErrors: the group's handler prints them
# (`error: <message>`, exit 2), under `egov cloud` and `python -m egov.cloud` alike.
@click.group("cloud", cls=EgovGroup)
def cloud() -> None:
    """The provincial cloud (Pulumi stacks in stacks/): mocked plans and the Ansible hand-off."""


@cloud.command("plan")
@click.option("--stack", type=click.Choice(STACKS), default="prod", show_default=True)
@MODEL_OPTION
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("reports/cloud"),
              show_default=True, help="directory for plan-<stack>.json and plan-<stack>.md")
def plan_command(stack: str, model_path: str, out_dir: Path) -> None:
    """Mocked preview: print the sorted resource plan, run the policy pack, write JSON and Markdown.

    Exits 1 when a policy is violated.
    """
    province = load_or_exit(model_path)      # a bad model: its error list, whether the SDKs are there or not
    try:
        from egov.cloud.mocked_run import run_mocked
        from egov.cloud.plan import build_plan, to_json, to_markdown, to_text
        from egov.cloud.policy_run import load_policies, run_policies
    except ImportError as exc:
        raise DependencyError(MISSING_SDK.format(error=exc)) from exc
    config = read_policy_config(stack)
    try:
        mocked = run_mocked(province, stack)
        policies = load_policies()
        violations = run_policies(mocked, config, policies)
    except EgovError:
        raise
    except ValueError as exc:
        raise PlanError(f"stack {stack}: {exc}") from exc
    plan = build_plan(mocked, [p.name for p in policies], violations)
    click.echo(to_text(plan), nl=False)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"plan-{stack}.json").write_text(to_json(plan), encoding="utf-8")
    (out_dir / f"plan-{stack}.md").write_text(to_markdown(plan), encoding="utf-8")
    # the public outputs in the shape of `pulumi stack output --json`, for `egov cloud handoff`
    (out_dir / f"outputs-{stack}.json").write_text(json.dumps(plan.outputs, indent=1, default=str) + "\n",
                                                   encoding="utf-8")
    click.echo(f"wrote {out_dir / f'plan-{stack}.json'}, {out_dir / f'plan-{stack}.md'} and "
               f"{out_dir / f'outputs-{stack}.json'} (mocked outputs)")
    if not plan.passed:
        raise PolicyViolation(f"stack {stack}: {len(plan.violations)} policy violation(s); "
                              f"see {out_dir}/plan-{stack}.md")


@cloud.command("handoff")
@click.option("--outputs", "outputs_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="the file written by `pulumi stack output --json`")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_OUTPUT,
              show_default=True, help="the inventory source file to write")
@MODEL_OPTION
def handoff_command(outputs_file: Path, out_file: Path, model_path: str) -> None:
    """Turn the stack outputs into the production inventory's connection data (ansible_host ...)."""
    hosts = handoff(outputs_file, load_or_exit(model_path), out_file)    # a HandoffError: the group's handler
    public = sum(1 for h in hosts if h.floating_ip)
    click.echo(f"wrote {out_file}: {len(hosts)} hosts ({public} with a floating IP)")

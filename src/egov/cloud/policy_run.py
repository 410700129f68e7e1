"""Run the policy pack's policies over a mocked stack, the way the engine would during a preview.

Resource policies see each resource's inputs; stack policies see every resource's outputs (the
mocks' state plus its id). Both use wire names (camelCase), like the engine.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from egov.cloud.mocked_run import MockedStack
from egov.cloud.paths import make_stacks_importable

OPTIONS = PolicyResourceOptions(protect=False, ignore_changes=[], delete_before_replace=None, aliases=[],
                                custom_timeouts=PolicyCustomTimeouts(0, 0, 0), additional_secret_outputs=[])


@dataclass(frozen=True)
class Violation:
    policy: str
    resource: str      # Pulumi logical name, or "" for the stack as a whole
    message: str


def load_policies() -> list[Policy]:
    make_stacks_importable()
    from province_policies import POLICIES

    return list(POLICIES)


def run_policies(stack: MockedStack, config: dict[str, dict[str, Any]] | None = None,
                 policies: Sequence[Policy] | None = None) -> list[Violation]:
    """Every violation of every policy, sorted. ``config`` is the --policy-pack-config content."""
    policies = list(policies) if policies is not None else load_policies()
    config = config or {}
    violations: list[Violation] = []
    names = {r.urn: r.name for r in stack.resources}
    outputs = [PolicyResource(r.type, {**r.state, "id": r.id}, r.urn, r.name, OPTIONS, None, None, [], {})
               for r in stack.resources]
    for policy in policies:
        policy_config = config.get(policy.name, {})
        if isinstance(policy, ResourceValidationPolicy):
            for resource in stack.resources:
                args = ResourceValidationArgs(resource.type, dict(resource.inputs), resource.urn, resource.name,
                                              OPTIONS, None, policy_config)
                _await(policy.validate(args, _reporter(violations, policy.name, names, resource.name)))
        elif isinstance(policy, StackValidationPolicy):
            args_stack = StackValidationArgs(outputs, policy_config)
            _await(policy.validate(args_stack, _reporter(violations, policy.name, names, "")))
    return sorted(violations, key=lambda v: (v.policy, v.resource, v.message))


def _reporter(sink: list[Violation], policy: str, names: dict[str, str], default: str) -> ReportViolation:
    def report(message: str, urn: str | None = None) -> None:
        sink.append(Violation(policy, names.get(urn or "", default), message))
    return report


def _await(result: object) -> None:
    if inspect.isawaitable(result):
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(result)
        finally:
            loop.close()

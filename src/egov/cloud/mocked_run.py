"""Run the Pulumi program of a stack against the mocks: the resources it would create and its outputs.

This is the only way to exercise the stacks here (no Pulumi engine, no OpenStack API). Each
call resets the Pulumi runtime, so runs do not leak resources or exports into one another.
Keep callers synchronous: the runtime drives its own event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi

from egov.cloud.mocks import CloudMocks, RecordedResource
from egov.cloud.paths import make_stacks_importable
from egov.cloud.stack_config import StackConfig, read_stack_config
from egov.model import Province

Program = Callable[[Province], object]


@dataclass
class MockedStack:
    stack: str
    resources: list[RecordedResource]
    outputs: dict[str, Any]
    secret_outputs: set[str] = field(default_factory=set)

    def of_type(self, type_token: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_token]

    def named(self, name: str) -> RecordedResource:
        for resource in self.resources:
            if resource.name == name:
                return resource
        raise KeyError(f"no resource named {name!r} in the mocked stack {self.stack}")


def default_program(province: Province) -> object:
    make_stacks_importable()
    from province_cloud.program import run

    return run(province)


def run_mocked(province: Province, stack: str = "prod", *, config: StackConfig | None = None,
               overrides: dict[str, Any] | None = None, program: Program = default_program,
               preview: bool = True) -> MockedStack:
    """Build the stack under mocks. ``overrides`` replace config keys (short names, this project)."""
    config = config or read_stack_config(stack)
    values = dict(config.values)
    for key, value in (overrides or {}).items():
        values[key if ":" in key else f"{config.project}:{key}"] = value
    config = StackConfig(project=config.project, stack=stack, values=values, secure_keys=config.secure_keys)

    mocks = CloudMocks()
    pulumi.runtime.reset_options(project=config.project, stack=stack, preview=preview)
    pulumi.runtime.set_all_config(config.runtime_map(), list(config.secure_keys))
    pulumi.runtime.set_mocks(mocks, project=config.project, stack=stack, preview=preview)
    outputs: dict[str, Any] = {}
    secrets: set[str] = set()

    @pulumi.runtime.test
    def execute() -> pulumi.Output[Any]:
        program(province)
        root = pulumi.runtime.get_root_resource()
        exported: dict[str, Any] = dict(getattr(root, "outputs", {}) or {})
        collected = []
        for name, value in exported.items():
            output = pulumi.Output.from_input(value)
            collected.append(pulumi.Output.all(output, output.is_secret()).apply(_store(name, outputs, secrets)))
        return pulumi.Output.all(*collected)

    execute()
    return MockedStack(stack=stack, resources=list(mocks.resources), outputs=outputs, secret_outputs=secrets)


def _store(name: str, outputs: dict[str, Any], secrets: set[str]) -> Callable[[list[Any]], None]:
    def store(pair: list[Any]) -> None:
        outputs[name] = pair[0]
        if pair[1]:
            secrets.add(name)
    return store

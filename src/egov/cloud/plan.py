"""The reviewers' resource plan of a mocked preview: sorted rows, counts by type, policy results.

Rendered three ways: a text table (terminal / CI log), JSON (machines) and Markdown (attached to
a merge request).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from egov.cloud.mocked_run import MockedStack
from egov.cloud.mocks import RecordedResource
from egov.cloud.policy_run import Violation

Props = dict[str, Any]


@dataclass(frozen=True)
class PlanRow:
    type: str      # short type: networking.Port
    name: str      # Pulumi logical name
    properties: str


@dataclass
class Plan:
    stack: str
    rows: list[PlanRow]
    counts: dict[str, int]
    outputs: dict[str, Any]
    policies: list[str]
    violations: list[Violation] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def passed(self) -> bool:
        return not self.violations


def short_type(token: str) -> str:
    """openstack:networking/port:Port -> networking.Port; random:index/randomPassword:... -> random.RandomPassword."""
    package, _, rest = token.partition(":")
    module, _, kind = rest.partition(":")
    module = module.split("/")[0]
    return f"{package}.{kind}" if module == "index" else f"{module}.{kind}"


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else {}


def _instance(p: Props) -> str:
    meta = p.get("metadata") or {}
    hint = _first(p.get("schedulerHints")).get("group", "-")
    return (f"flavor={p.get('flavorName')} image={p.get('imageName')} ip={p.get('accessIpV4')} "
            f"group={hint} owner={meta.get('owner')} level={meta.get('security_level')}")


def _rule(p: Props) -> str:
    remote = p.get("remoteIpPrefix") or p.get("remoteAddressGroupId") or p.get("remoteGroupId")
    return f"{p.get('description')} (remote={remote})"


KEY_PROPERTIES: dict[str, Callable[[Props], str]] = {
    "compute.Instance": _instance,
    "compute.ServerGroup": lambda p: f"policies={p.get('policies')}",
    "compute.Keypair": lambda p: f"name={p.get('name')}",
    "compute.VolumeAttach": lambda p: f"volume={p.get('volumeId')} instance={p.get('instanceId')}",
    "blockstorage.Volume": lambda p: f"size={_int(p.get('size'))}GB type={p.get('volumeType')}",
    "networking.Network": lambda p: f"name={p.get('name')}",
    "networking.Subnet": lambda p: f"cidr={p.get('cidr')} gateway={p.get('gatewayIp')}",
    "networking.Router": lambda p: f"external={p.get('externalNetworkId')}",
    "networking.RouterInterface": lambda p: f"subnet={p.get('subnetId')}",
    "networking.Port": lambda p: f"ip={_first(p.get('fixedIps')).get('ipAddress')}",
    "networking.SecGroup": lambda p: f"name={p.get('name')}",
    "networking.SecGroupRule": _rule,
    "networking.AddressGroupV2": lambda p: f"prefixes={len(p.get('addresses') or [])}",
    "networking.FloatingIp": lambda p: f"address={p.get('address')} port={p.get('portId')}",
    "loadbalancer.LoadBalancer": lambda p: f"vip={p.get('vipAddress')} subnet={p.get('vipSubnetId')}",
    "loadbalancer.Listener": lambda p: (f"{p.get('protocol')}/{_int(p.get('protocolPort'))} "
                                        f"allowed={len(p.get('allowedCidrs') or []) or 'any'}"),
    "loadbalancer.Pool": lambda p: f"{p.get('protocol')} {p.get('lbMethod')}",
    "loadbalancer.Member": lambda p: f"{p.get('address')}:{_int(p.get('protocolPort'))}",
    "loadbalancer.Monitor": lambda p: f"{p.get('type')} every {_int(p.get('delay'))}s",
    "objectstorage.Container": lambda p: f"versioning={p.get('versioning')}",
    "random.RandomPassword": lambda p: f"length={_int(p.get('length'))} (secret)",
}


def _int(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def row_for(resource: RecordedResource) -> PlanRow:
    kind = short_type(resource.type)
    describe = KEY_PROPERTIES.get(kind)
    return PlanRow(type=kind, name=resource.name, properties=describe(resource.state) if describe else "")


def build_plan(stack: MockedStack, policies: list[str], violations: list[Violation]) -> Plan:
    rows = sorted((row_for(r) for r in stack.resources), key=lambda r: (r.type, r.name))
    counts = dict(sorted(Counter(r.type for r in rows).items()))
    public_outputs = {k: v for k, v in stack.outputs.items() if k not in stack.secret_outputs}
    public_outputs.update({k: "[secret]" for k in stack.secret_outputs})
    return Plan(stack=stack.stack, rows=rows, counts=counts, outputs=public_outputs, policies=policies,
                violations=violations)


def to_json(plan: Plan) -> str:
    data = {
        "stack": plan.stack,
        "total": plan.total,
        "counts": plan.counts,
        "resources": [asdict(r) for r in plan.rows],
        "outputs": plan.outputs,
        "policies": {"checked": plan.policies, "passed": plan.passed,
                     "violations": [asdict(v) for v in plan.violations]},
    }
    return json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False, default=str) + "\n"


def to_text(plan: Plan) -> str:
    width_type = max((len(r.type) for r in plan.rows), default=4)
    width_name = max((len(r.name) for r in plan.rows), default=4)
    lines = [f"{'TYPE':<{width_type}}  {'NAME':<{width_name}}  KEY PROPERTIES"]
    lines += [f"{r.type:<{width_type}}  {r.name:<{width_name}}  {r.properties}" for r in plan.rows]
    lines += ["", "Counts by type:"]
    lines += [f"  {count:>4}  {kind}" for kind, count in plan.counts.items()]
    lines += [f"  {plan.total:>4}  total", "", _policy_summary(plan)]
    lines += [f"  - [{v.policy}] {v.resource or '(stack)'}: {v.message}" for v in plan.violations]
    return "\n".join(lines) + "\n"


def to_markdown(plan: Plan) -> str:
    lines = [f"# Resource plan: stack `{plan.stack}` (mocked preview)", "",
             "Generated by `egov cloud plan` from Pulumi unit-test mocks: no engine, no OpenStack API. "
             "Ids and public addresses are placeholders.", "",
             f"**{plan.total} resources.** {_policy_summary(plan)}", "",
             "## Counts by type", "", "| type | count |", "|---|---:|"]
    lines += [f"| `{kind}` | {count} |" for kind, count in plan.counts.items()]
    lines += [f"| **total** | **{plan.total}** |", ""]
    if plan.violations:
        lines += ["## Policy violations", "", "| policy | resource | message |", "|---|---|---|"]
        lines += [f"| {v.policy} | {v.resource or '(stack)'} | {_cell(v.message)} |" for v in plan.violations]
        lines.append("")
    lines += ["## Resources", "", "| type | name | key properties |", "|---|---|---|"]
    lines += [f"| `{r.type}` | `{r.name}` | {_cell(r.properties)} |" for r in plan.rows]
    return "\n".join(lines) + "\n"


def _policy_summary(plan: Plan) -> str:
    if plan.passed:
        return f"Policies: all {len(plan.policies)} passed ({', '.join(plan.policies)})."
    return f"Policies: {len(plan.violations)} violation(s) of {len(plan.policies)} policies."


def _cell(text: str) -> str:
    return text.replace("|", "\\|")

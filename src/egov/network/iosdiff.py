"""Intent vs running configuration of an IOS-style device, and the commands that reconcile them.

Configs are compared as blocks: a top-level line and its indented children. Only what the
intended configuration manages is touched; the device's own defaults are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Lines the device never shows back (IOS hides SNMPv3 users): pushed with their group on first
# provisioning, left out of every comparison.
HIDDEN = ("snmp-server user ",)
# Commands that hold one value: a new line replaces the old one, no `no` needed.
SINGLE_VALUED = ("hostname ", "ip default-gateway ", "ip domain-name ", "banner motd ", "logging trap ",
                 "enable secret ", "ip ssh time-out ", "ip ssh authentication-retries ", "ip ssh version ",
                 "snmp-server location ", "aaa authentication login default ", "aaa authorization exec default ")
CHILD_SINGLE_VALUED = ("description ", "switchport access vlan ", "switchport mode ", "switchport trunk allowed vlan ",
                       "ip address ", "exec-timeout ", "access-class ")
# Top-level lines the device has but intent has not, removed when they start with one of these.
MANAGED_EXTRAS = ("vlan ", "username ", "ntp server ", "logging host ", "snmp-server ", "ip access-list ",
                  "interface Vlan")
# Blocks whose children are an ordered list: any change rewrites the whole block.
ORDERED_BLOCKS = ("ip access-list ",)
_IGNORED_PREFIXES = ("!", "Building configuration", "Current configuration", "version ", "end")


@dataclass
class Block:
    line: str
    children: list[str] = field(default_factory=list)


def parse(text: str) -> dict[str, Block]:
    blocks: dict[str, Block] = {}
    current: Block | None = None
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line.strip() or (line.strip().startswith(_IGNORED_PREFIXES) and not raw.startswith(" ")):
            if line.strip() in ("!", "end"):
                current = None
            continue
        if raw.startswith(" ") and current is not None:
            child = line.strip()
            if child != "!":
                current.children.append(child)
            continue
        current = Block(line.strip())
        blocks[_key(current.line)] = current
    return blocks


def _key(line: str) -> str:
    for prefix in SINGLE_VALUED:
        if line.startswith(prefix):
            return prefix.strip()
    return line


def _child_key(line: str) -> str:
    for prefix in CHILD_SINGLE_VALUED:
        if line.startswith(prefix):
            return prefix.strip()
    return line


def _negate(line: str, single: tuple[str, ...]) -> str:
    if line.startswith("no "):
        return line[3:]
    for prefix in single:
        if line.startswith(prefix):
            return "no " + prefix.strip()
    if line.startswith("vlan "):
        return "no " + line
    return "no " + line


def _visible(blocks: dict[str, Block]) -> dict[str, Block]:
    return {k: b for k, b in blocks.items() if not b.line.startswith(HIDDEN)}


def _same_children(want: Block, have: Block) -> bool:
    if want.line.startswith(ORDERED_BLOCKS):
        return want.children == have.children
    return sorted(want.children) == sorted(have.children)


def remediation(intended: str, running: str) -> list[str]:
    """Config-mode commands turning `running` into `intended` (empty when in sync)."""
    want_all = parse(intended)
    want = _visible(want_all)
    have = _visible(parse(running))
    commands: list[str] = []
    hostname: list[str] = []
    first_provisioning = not any(k.startswith("snmp-server group ") for k in have)
    for key, block in want.items():
        current = have.get(key)
        if current is None or current.line != block.line:
            cmds = [block.line, *(f" {c}" for c in block.children), *(["exit"] if block.children else [])]
            if block.line.startswith("hostname "):
                hostname = cmds
                continue
            if current is not None and block.line.startswith(ORDERED_BLOCKS):
                cmds = ["no " + current.line, *cmds]
            commands += cmds
            if block.line.startswith("snmp-server group ") and first_provisioning:
                commands += [b.line for b in want_all.values() if b.line.startswith(HIDDEN)]
            continue
        if _same_children(block, current):
            continue
        if block.line.startswith(ORDERED_BLOCKS):
            commands += ["no " + block.line, block.line, *(f" {c}" for c in block.children), "exit"]
            continue
        want_children = {_child_key(c): c for c in block.children}
        have_children = {_child_key(c): c for c in current.children}
        sub: list[str] = []
        for ckey, child in have_children.items():
            if ckey not in want_children:
                sub.append(" " + _negate(child, CHILD_SINGLE_VALUED))
        for ckey, child in want_children.items():
            if have_children.get(ckey) != child:
                sub.append(" " + child)
        if sub:
            commands += [block.line, *sub, "exit"]
    for key, block in have.items():
        if key in want or not block.line.startswith(MANAGED_EXTRAS) or block.line == "vlan 1":
            continue
        commands.append(_negate(block.line, SINGLE_VALUED))
    return commands + hostname


def differences(intended: str, running: str) -> list[str]:
    """A readable diff of the visible configuration (for reports): `+ line` / `- line`."""
    want = _visible(parse(intended))
    have = _visible(parse(running))
    out = []
    for key, block in want.items():
        current = have.get(key)
        if current is None:
            out.append(f"+ {block.line}")
            out += [f"+   {c}" for c in block.children]
        elif current.line != block.line:
            out += [f"- {current.line}", f"+ {block.line}"]
        elif not _same_children(block, current):
            out.append(f"  {block.line}")
            out += [f"-   {c}" for c in current.children if c not in block.children]
            out += [f"+   {c}" for c in block.children if c not in current.children]
            if not [c for c in current.children if c not in block.children] and \
                    not [c for c in block.children if c not in current.children]:
                out.append("    (order differs)")
    for key, block in have.items():
        if key not in want and block.line.startswith(MANAGED_EXTRAS) and block.line != "vlan 1":
            out.append(f"- {block.line}")
    return out

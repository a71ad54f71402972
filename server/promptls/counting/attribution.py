"""Per-part exact counts from an endpoint that only returns totals.

Each part is counted as `count(body) − count(baseline)`: `body` is the smallest request that holds
the part and is valid under the strictest documented rules (first message from the user, no empty
content, every tool_use answered by a tool_result in the next user message and every tool_result
right after its tool_use, tool_result blocks first, tools sent whenever tool blocks are, the
conversation ending on a user turn so models without prefill accept it), and `baseline` is the
same request without the part. Baselines depend only on the model (and, for tool blocks, on the
tools and the tool_use id), so they are cached like any other count.

What a part's number means:
- system, tools (the group, including the tool-use system prompt), thinking: what adding the field
  to a one-message request adds.
- a content block or attachment: what it adds to a turn of its role (tool_use/tool_result: what it
  adds beyond a bare tool_use with `input: {}` / a bare tool_result for the same id).
- a message: the sum of its blocks when its child parts cover its content (so editing one block
  costs one request), else what its content adds to a turn of its role.
- a single tool: the tools group's exact number, less the estimator's tool-use system prompt, shared
  by the estimator's proportions (≈). Exact per-tool numbers would need the group and the tool
  counted again on every tool edit (three requests), breaking the two-requests-per-edit rule, so
  the group stays exact and is split.
Turn framing and the stubs are not inside any part: they are the overhead (total − Σ top-level
parts), clamped at zero.

Parts the endpoint rejects (url/file sources, server tools, MCP) are stripped from every body
sent and keep their estimate, marked not exact; their parents and the total add that estimate.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..model import CountRequest, Counts, Part, PartCount, PartReport

FILLER: dict[str, Any] = {"type": "text", "text": "."}
SERVER_TOOL_PREFIXES = ("web_search_", "web_fetch_", "code_execution_", "tool_search_", "mcp")
REJECTED_SOURCES = ("url", "file")
LEAF_KINDS = ("block", "attachment", "tool")

Body = dict[str, Any]


@dataclass(slots=True)
class Measure:
    """`count(body) − count(baseline)`, plus the estimates of stripped children in `plus`."""

    body: Body
    baseline: Body
    plus: tuple[str, ...] = ()


@dataclass(slots=True)
class Plan:
    """What to send and how to turn the answers into part numbers."""

    total: Body
    measures: dict[str, Measure] = field(default_factory=dict)
    sums: dict[str, list[str]] = field(default_factory=dict)
    scaled: dict[str, str] = field(default_factory=dict)
    estimated: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def bodies(self) -> list[tuple[str, Body]]:
        """(label, body) to count, total first, then each part's baseline and body, deduplicated."""
        out: list[tuple[str, Body]] = [("request", self.total)]
        seen = {canonical(self.total)}
        for pid, m in self.measures.items():
            for body in (m.baseline, m.body):
                c = canonical(body)
                if c not in seen:
                    seen.add(c)
                    out.append((pid, body))
        return out


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def is_rejected(fragment: Any) -> bool:
    """True for what count_tokens answers with invalid_request_error: url/file sources, server tools."""
    if not isinstance(fragment, dict):
        return False
    source = fragment.get("source")
    if isinstance(source, dict) and source.get("type") in REJECTED_SOURCES:
        return True
    kind = fragment.get("type")
    return isinstance(kind, str) and kind.startswith(SERVER_TOOL_PREFIXES) and "input_schema" not in fragment


def _blocks(content: Any) -> list[Any]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return list(content) if isinstance(content, list) else []


def _user(blocks: list[Any]) -> dict[str, Any]:
    return {"role": "user", "content": blocks}


def _assistant(blocks: list[Any]) -> dict[str, Any]:
    return {"role": "assistant", "content": blocks}


def _stub_use(tool_id: str, name: str) -> dict[str, Any]:
    return {"type": "tool_use", "id": tool_id, "name": name, "input": {}}


def _stub_result(tool_id: str) -> dict[str, Any]:
    return {"type": "tool_result", "tool_use_id": tool_id}


def _stub_tools(names: Iterable[str]) -> list[dict[str, Any]]:
    """Bare definitions for the tools that stub tool_use blocks name: tool blocks are sent with
    tools, yet editing a real tool's description must not change these requests."""
    return [{"name": n, "input_schema": {"type": "object"}} for n in sorted(set(names))]


def _ids(blocks: list[Any], block_type: str, id_key: str) -> list[str]:
    return [str(b.get(id_key)) for b in blocks if isinstance(b, dict) and b.get("type") == block_type]


class _Planner:
    def __init__(self, request: CountRequest) -> None:
        self.request = request
        self.model = request.model
        self.rejected = {canonical(p.fragment) for p in request.parts
                         if p.kind in LEAF_KINDS and (not p.api_ok or is_rejected(p.fragment))}
        self.total, self.tools_ctx, self.notes = self._strip(request.body)
        self.names = {str(b.get("id")): str(b.get("name", "tool"))
                      for m in self.total.get("messages", []) if isinstance(m, dict)
                      for b in _blocks(m.get("content")) if isinstance(b, dict) and b.get("type") == "tool_use"}

    def dropped(self, fragment: Any) -> bool:
        return is_rejected(fragment) or canonical(fragment) in self.rejected

    def _strip(self, body: Body) -> tuple[Body, Body, list[str]]:
        notes: list[str] = []
        out = {k: v for k, v in body.items() if k != "mcp_servers"}
        if "mcp_servers" in body:
            notes.append("mcp_servers are not accepted by count_tokens: estimated")
        messages = []
        for m in body.get("messages", []):
            if isinstance(m, dict) and isinstance(m.get("content"), list):
                kept = [b for b in m["content"] if not self.dropped(b)]
                if not kept and m["content"]:
                    kept = [dict(FILLER)]
                    notes.append("a message made only of rejected blocks was sent with a placeholder")
                m = {**m, "content": kept}
            messages.append(m)
        out["messages"] = messages
        if isinstance(body.get("tools"), list):
            tools = [t for t in body["tools"] if not self.dropped(t)]
            choice = body.get("tool_choice")
            if tools:
                out["tools"] = tools
                names = {t.get("name") for t in tools if isinstance(t, dict)}
                if isinstance(choice, dict) and choice.get("type") == "tool" and choice.get("name") not in names:
                    out.pop("tool_choice", None)
            else:
                out.pop("tools", None)
                out.pop("tool_choice", None)
        ctx = {k: out[k] for k in ("tools", "tool_choice") if k in out}
        return out, ctx, notes

    def _req(self, messages: list[Any], **extra: Any) -> Body:
        return {"model": self.model, **extra, "messages": messages}

    def blocks_measure(self, role: str, blocks: list[Any]) -> Measure:
        """The minimal request holding `blocks` in a turn of `role`, and the same without them."""
        u0 = _user([dict(FILLER)])
        if role == "assistant":
            ids = _ids(blocks, "tool_use", "id")
            if ids:
                names = {str(b.get("id")): str(b.get("name", "tool")) for b in blocks
                         if isinstance(b, dict) and b.get("type") == "tool_use"}
                tools = _stub_tools(names.values())
                answer = _user([_stub_result(i) for i in ids])
                return Measure(
                    self._req([u0, _assistant(blocks), answer], tools=tools),
                    self._req([u0, _assistant([_stub_use(i, names[i]) for i in ids]), answer], tools=tools))
            return Measure(self._req([u0, _assistant([*blocks, dict(FILLER)]), u0]),
                           self._req([u0, _assistant([dict(FILLER)]), u0]))
        ids = _ids(blocks, "tool_result", "tool_use_id")
        if ids:
            names = [self.names.get(i, "tool") for i in ids]
            asked = _assistant([_stub_use(i, n) for i, n in zip(ids, names, strict=True)])
            tools = _stub_tools(names)
            return Measure(self._req([u0, asked, _user(blocks)], tools=tools),
                           self._req([u0, asked, _user([_stub_result(i) for i in ids])], tools=tools))
        return Measure(self._req([_user([*blocks, dict(FILLER)])]), self._req([u0]))

    def field_measure(self, **extra: Any) -> Measure:
        u0 = _user([dict(FILLER)])
        return Measure(self._req([u0], **extra), self._req([u0]))

    def plan(self) -> Plan:
        plan = Plan(self.total, notes=list(self.notes))
        parts = self.request.parts
        children: dict[str, list[Part]] = {}
        for p in parts:
            if p.parent is not None:
                children.setdefault(p.parent, []).append(p)
        for p in parts:
            if p.kind in LEAF_KINDS and self.dropped(p.fragment):
                plan.estimated.append(p.id)
        for p in parts:
            if p.parent is not None:
                continue
            kids = children.get(p.id, [])
            stripped = tuple(k.id for k in kids if k.id in plan.estimated)
            if p.kind == "message" and isinstance(p.fragment, dict):
                self._plan_message(plan, p, kids, stripped)
            elif p.kind == "system" and "system" in self.total:
                plan.measures[p.id] = self.field_measure(system=self.total["system"])
            elif p.kind == "tools":
                if self.tools_ctx.get("tools"):
                    plan.measures[p.id] = self.field_measure(**self.tools_ctx)
                    plan.measures[p.id].plus = stripped
                    for k in kids:
                        if k.id not in plan.estimated:
                            plan.scaled[k.id] = p.id
                else:
                    plan.estimated.append(p.id)
            elif p.kind == "thinking" and "thinking" in self.total:
                plan.measures[p.id] = self.field_measure(thinking=self.total["thinking"])
            else:
                plan.estimated.append(p.id)
        if plan.estimated:
            leaves = [pid for pid in plan.estimated if self.request.part(pid).kind in LEAF_KINDS]
            if leaves:
                plan.notes.append("estimated (count_tokens does not accept them): " + ", ".join(leaves))
        return plan

    def _plan_message(self, plan: Plan, p: Part, kids: list[Part], stripped: tuple[str, ...]) -> None:
        role = str(p.fragment.get("role") or p.role or "user")
        content = _blocks(p.fragment.get("content"))
        covered = sorted(canonical(b) for b in content) == sorted(canonical(k.fragment) for k in kids)
        for k in kids:
            if k.id not in plan.estimated:
                plan.measures[k.id] = self.blocks_measure(role, [k.fragment])
        if kids and covered:
            plan.sums[p.id] = [k.id for k in kids]
            return
        kept = [b for b in content if not self.dropped(b)]
        if kept:
            plan.measures[p.id] = self.blocks_measure(role, kept)
            plan.measures[p.id].plus = stripped
        else:
            plan.estimated.append(p.id)


def plan_request(request: CountRequest) -> Plan:
    """Decide which bodies to count for `request` (total first) and how parts derive from them."""
    return _Planner(request).plan()


def attribute(plan: Plan, request: CountRequest, estimate: Counts,
              answer: Callable[[Body], int | None]) -> tuple[dict[str, PartCount], list[str]]:
    """Part numbers from the answers (`answer(body)` is None when that body could not be counted).

    Returns the parts and the ids that fell back to their estimate because an answer was missing.
    """
    est = estimate.parts

    def guess(pid: str) -> PartCount:
        pc = est.get(pid)
        return PartCount(pc.tokens if pc else 0, False)

    out: dict[str, PartCount] = {pid: guess(pid) for pid in plan.estimated}
    missing: list[str] = []
    for pid, m in plan.measures.items():
        got, base = answer(m.body), answer(m.baseline)
        if got is None or base is None:
            out[pid] = guess(pid)
            missing.append(pid)
            continue
        extra = [guess(c) for c in m.plus]
        out[pid] = PartCount(max(0, got - base) + sum(e.tokens for e in extra), not extra)
    for pid, kids in plan.sums.items():
        vals = [out.get(k) or guess(k) for k in kids]
        out[pid] = PartCount(sum(v.tokens for v in vals), all(v.exact for v in vals))
    shared: dict[str, list[str]] = {}
    for pid, parent in plan.scaled.items():
        shared.setdefault(parent, []).append(pid)
    for parent, kids in shared.items():
        for pid, pc in _share(out.get(parent) if parent not in missing else None, parent, kids,
                              plan.measures[parent].plus, guess).items():
            out[pid] = pc
    for p in request.parts:
        out.setdefault(p.id, guess(p.id))
    return out, missing


def _share(group: PartCount | None, parent: str, kids: list[str], stripped: tuple[str, ...],
           guess: Callable[[str], PartCount]) -> dict[str, PartCount]:
    """Split an exact group among its children by their estimates, after taking out what the
    estimator puts outside the children (the tool-use system prompt), so a tool's share is its
    definition, not a slice of the overhead."""
    mine = {k: guess(k).tokens for k in kids}
    if group is None:
        return {k: PartCount(v, False) for k, v in mine.items()}
    est_group = guess(parent).tokens - sum(guess(s).tokens for s in stripped)
    est_kids = sum(mine.values())
    exact_kids = group.tokens - sum(guess(s).tokens for s in stripped) - max(0, est_group - est_kids)
    if exact_kids <= 0 or est_kids <= 0:
        return {k: PartCount(v, False) for k, v in mine.items()}
    return {k: PartCount(round(v * exact_kids / est_kids), False) for k, v in mine.items()}


TOOL_SYSTEM_ID = "tools.system"


def with_tool_system_row(parts: list[PartReport]) -> list[PartReport]:
    """Add the tool-use system prompt as a child row of `tools`: what the group holds beyond the tool
    definitions (Anthropic adds it whenever tools are sent), so the rows under `tools` add up to it."""
    group = next((p for p in parts if p.id == "tools" and p.parent is None), None)
    if group is None or any(p.id == TOOL_SYSTEM_ID for p in parts):
        return parts
    kids = [p for p in parts if p.parent == "tools"]
    rest = group.tokens - sum(k.tokens for k in kids)
    if rest <= 0:
        return parts
    row = PartReport(TOOL_SYSTEM_ID, "tool-system", "tool-use system prompt", group.span, rest,
                     group.exact and all(k.exact for k in kids), parent="tools")
    at = parts.index(group) + 1
    return [*parts[:at], row, *parts[at:]]


def overhead(total: int, parts: dict[str, PartCount], request: CountRequest) -> tuple[int, bool]:
    """total − Σ top-level parts, clamped at 0; the flag says whether clamping happened."""
    rest = total - sum(parts[p.id].tokens for p in request.top_parts if p.id in parts)
    return max(0, rest), rest < 0

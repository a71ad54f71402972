"""The offline estimator: every part of a count_tokens request, without the API.

Text goes through ctok (exact for text on its held-out corpora); images through the published
28-px patch rule (`promptls.vision`) at the model's tier; PDFs, tools, turns and documents through
the framing model in `framing.py`. Each estimate splits into text tokens, which the per-model
`correction` learnt from exact counts scales, and fixed tokens (frames, overheads, images), which
it does not. The one-message frame is attributed to no part: it is the `overhead`.

Text is counted and memoised in `texttokens.py`, images and PDFs sized in `media.py`, each block,
tool and the system prompt estimated in `blocks.py`; this module walks the request and assigns the
estimates to its parts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ..catalog import ModelInfo
from ..model import CountRequest, Counts, Part, PartCount
from . import framing
from .blocks import content_blocks, current_turn_start, est_block, est_system, est_thinking, est_tool
from .media import PDF_CACHE, SIZE_CACHE
from .texttokens import TEXT_CACHE, Est, est_text, flush_store, message_frame, text_tokens, use_store, warm_up

__all__ = ["clear_caches", "estimate", "flush_store", "message_frame", "overhead_of", "text_tokens", "use_store",
           "warm_up"]


def clear_caches() -> None:
    """Forget memoised counts (tests; a long-running server never needs to)."""
    for cache in (TEXT_CACHE, SIZE_CACHE, PDF_CACHE):
        cache.clear()



def estimate(request: CountRequest, info: ModelInfo, correction: float = 1.0) -> Counts:
    """Estimated tokens for every part of `request` and its total (all `exact=False`).

    Top-level parts + overhead = total; overhead holds what belongs to no part (the message
    frame, and any piece of the body no part stands for). `correction` scales text tokens only.
    """
    body = request.body if isinstance(request.body, Mapping) else {}
    if not math.isfinite(correction) or correction <= 0:
        correction = 1.0
    by_fragment: dict[int, Part] = {id(p.fragment): p for p in request.parts if p.parent is not None}
    child_est: dict[str, Est] = {}

    messages = body.get("messages")
    messages = messages if isinstance(messages, list) else []
    current_from = current_turn_start(messages)
    message_est: list[Est] = []
    previous_role: str | None = None
    for i, message in enumerate(messages):
        role = message.get("role") if isinstance(message, Mapping) else None
        est = Est(fixed=framing.turn_frame(str(role), previous_role))
        previous_role = str(role)
        current = i >= current_from and role == "assistant"
        for block in content_blocks(message):
            part = by_fragment.get(id(block))
            block_est = est_block(block, info, current_turn=current, att=part.attachment if part else None)
            if part is not None:
                child_est[part.id] = block_est
            est += block_est
        message_est.append(est)

    tools = body.get("tools")
    tools = tools if isinstance(tools, list) else []
    tools_est = Est()
    for tool in tools:
        one = est_tool(tool, info)
        part = by_fragment.get(id(tool))
        if part is not None:
            child_est[part.id] = one
        tools_est += one
    if tools:
        tools_est += Est(fixed=info.tool_overhead(body.get("tool_choice")
                                                  if isinstance(body.get("tool_choice"), Mapping) else None))

    pieces: dict[str, Est] = {"system": est_system(body.get("system"), info), "tools": tools_est,
                              "thinking": est_thinking(body.get("thinking"))}
    pieces.update({f"messages[{i}]": est for i, est in enumerate(message_est)})

    parts: dict[str, PartCount] = {}
    claimed: set[str] = set()
    top_total = 0
    for part in request.parts:
        if part.parent is None:
            if part.id in pieces and part.id not in claimed:
                est = pieces[part.id]
                claimed.add(part.id)
            else:  # a part the body does not hold as we know it: count its fragment
                est = _fallback(part, info)
            tokens = est.final(correction)
            top_total += tokens
        else:
            known = child_est.get(part.id)
            est = known if known is not None else _fallback(part, info)
            tokens = est.final(correction)
        parts[part.id] = PartCount(tokens, exact=False)

    unclaimed = Est(fixed=message_frame(info.tokenizer))
    for key, est in pieces.items():
        if key not in claimed:
            unclaimed += est
    overhead = unclaimed.final(correction)
    return Counts(total=top_total + overhead, exact=False, parts=parts, source="estimate")


def _fallback(part: Part, info: ModelInfo) -> Est:
    """A part whose fragment was not found in the body: estimate the fragment on its own."""
    fragment = part.fragment
    if part.kind == "tool":
        return est_tool(fragment, info)
    if part.kind == "tools":
        if isinstance(fragment, list):
            return sum((est_tool(t, info) for t in fragment), Est())
        return est_text(fragment, info)
    if part.kind == "system":
        return est_system(fragment, info)
    if part.kind == "thinking":
        return est_thinking(fragment)
    if part.kind == "message":
        return sum((est_block(b, info, current_turn=False) for b in content_blocks(fragment)), Est())
    if isinstance(fragment, Mapping):
        return est_block(fragment, info, current_turn=False, att=part.attachment)
    return est_text(fragment, info) if fragment is not None else Est()


def overhead_of(counts: Counts, request: CountRequest) -> int:
    """Total minus the top-level parts: what the UI shows as overhead."""
    return counts.total - sum(counts.parts[p.id].tokens for p in request.top_parts if p.id in counts.parts)

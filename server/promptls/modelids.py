"""Claude model ids as people write them: both naming schemes, cloud prefixes and snapshot suffixes.

Prompt files name models the way their platform does (`anthropic/claude-sonnet-4-6`, Bedrock's
`us.anthropic.claude-…-v2:0`, Vertex's `@20241022`); the catalog looks rows up by the normalised id and
matches unknown ids by (family, version).
"""

from __future__ import annotations

import re

FAMILIES = ("opus", "sonnet", "haiku", "fable", "mythos")


def normalize_id(model: str) -> str:
    """Lower-case, trimmed, without a provider prefix (`anthropic/`, Bedrock `anthropic.`, region
    `us.`) or provider suffix (Bedrock `-v2:0`, Vertex `@20241022` → `-20241022`)."""
    s = model.strip().lower()
    s = s.removeprefix("anthropic/")
    s = re.sub(r"^(?:[a-z]{2,4}\.)?anthropic\.", "", s)  # Bedrock: anthropic.x, us.anthropic.x
    s = re.sub(r"-v\d+(?::\d+)?(?=@|$)", "", s)
    s = re.sub(r"@(\d{8})$", r"-\1", s)
    return s


_VERSION_FIRST = re.compile(r"^claude-(\d+)(?:[-.](\d+))?-([a-z]+)(.*)$")   # claude-3-5-sonnet-…
_FAMILY_FIRST = re.compile(r"^claude-([a-z]+)(?:-(\d+)(?:[-.](\d+))?)?(.*)$")  # claude-sonnet-4-5-…


def parse_id(model_id: str) -> tuple[str | None, tuple[int, ...]]:
    """(family, version) of a Claude id: `claude-3-5-sonnet-20241022` → ("sonnet", (3, 5))."""
    m = _VERSION_FIRST.match(model_id)
    if m and m[3] in FAMILIES:
        return m[3], (int(m[1]),) + ((int(m[2]),) if m[2] and len(m[2]) < 3 else ())
    m = _FAMILY_FIRST.match(model_id)
    if m and m[1] in FAMILIES:
        if m[2] is None or len(m[2]) >= 3:  # no version, or a date where a version would be
            return m[1], ()
        minor = (int(m[3]),) if m[3] and len(m[3]) < 3 else ()
        return m[1], (int(m[2]), *minor)
    return None, ()


def padded(v: tuple[int, ...]) -> tuple[int, int]:
    major, minor = (*v, 0, 0)[:2]
    return major, minor


"""The data that flows through promptls: modes and count states here, the rest by stage.

Everything is plain data (dataclasses), so the engine stays pure and the LSP, the CLI and the API
client only exchange these values. The types live with their stage (`findings.py` positions and
findings, `prompt.py` the parsed prompt, `parts.py` the request and its counts, `reports.py` the
engine's reports); this module names them all, so code imports its types from one place.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, get_args

from .findings import FILE_START, DataPath, Finding, Pos, Severity, Span
from .parts import CacheBreakpoint, CachePosition, CountRequest, Counts, Part, PartCount
from .prompt import Attachment, AttachmentRef, BlockSpec, MessageSpec, PromptDocument, PromptSpec
from .reports import (
    OVER_BUDGET_CODES,
    BreakpointReport,
    CacheReport,
    FileReport,
    ModelComparison,
    PartReport,
    VariantReport,
    WorkspaceReport,
)

__all__ = [
    "FILE_START", "HINT_LEVELS", "MODES", "OVER_BUDGET_CODES", "Attachment", "AttachmentRef", "BlockSpec",
    "BreakpointReport", "CacheBreakpoint", "CachePosition", "CacheReport", "CountRequest", "CountState", "Counts",
    "DataPath", "FileReport", "Finding", "HintLevel", "MessageSpec", "Mode", "ModelComparison", "Part",
    "PartCount", "PartReport", "Pos", "PromptDocument", "PromptSpec", "Severity", "Span", "VariantReport",
    "WorkspaceReport",
]

Mode = Literal["auto", "api", "offline"]  # where counts come from (config `mode`, `--mode`)
MODES: tuple[Mode, ...] = get_args(Mode)
HintLevel = Literal["all", "totals", "off"]  # which inlay hints the editor shows (config `hints`)
HINT_LEVELS: tuple[HintLevel, ...] = get_args(HintLevel)


class CountState(StrEnum):
    """Where a file's numbers stand (`promptls/fileStatus` `state`, the CLI's api line)."""

    EXACT = "exact"
    ESTIMATE = "estimate"
    COUNTING = "counting"
    OFFLINE = "offline"
    RATE_LIMITED = "rate-limited"
    NO_KEY = "no-key"
    ERROR = "error"

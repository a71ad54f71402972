"""What the server knows about one prompt file: the last report and the text it was computed on."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import Config
from ..model import FileReport

if TYPE_CHECKING:
    from ..pipeline import Estimated

# `promptls/fileStatus` states (docs/ARCHITECTURE.md, "Editor contract").
EXACT, ESTIMATE, COUNTING, OFFLINE, RATE_LIMITED, NO_KEY, ERROR = (
    "exact", "estimate", "counting", "offline", "rate-limited", "no-key", "error")


@dataclass(slots=True)
class DocResult:
    """One analysis of one version of a file. `version` is None for files read from disk."""

    uri: str
    path: Path
    version: int | None
    lines: list[str]
    report: FileReport
    config: Config
    state: str
    analysis: Any = None
    attachments: frozenset[Path] = field(default_factory=frozenset)
    api_error: str | None = None
    estimated: Estimated | None = None  # the offline step: its counts are the API counter's fallback
    source: str | None = None  # the open buffer's text `lines` were split from (identity tells it is current)

    def closed(self) -> DocResult:
        """What a file nobody has open needs: its report (totals, workspace budget, status) and its
        first line (workspace findings sit at the file start). The analysis (parsed document,
        request, attachment bytes) and the other lines are dropped: ~30 KB a file in a big workspace."""
        return replace(self, analysis=None, estimated=None, lines=self.lines[:1], source=None)

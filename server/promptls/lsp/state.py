"""What the server knows about one prompt file: the last report and the text it was computed on."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import Config
from ..model import CountState, FileReport

if TYPE_CHECKING:
    from ..engine import Analysis
    from ..pipeline import Estimated

Stamp = tuple[int, int] | None  # (mtime_ns, size) of a file, None when it is missing


@dataclass(slots=True)
class DocResult:
    """One analysis of one version of a file. `version` is None for files read from disk."""

    uri: str
    path: Path
    version: int | None
    lines: list[str]
    report: FileReport
    config: Config
    state: CountState
    analysis: Analysis | None = None
    attachments: frozenset[Path] = field(default_factory=frozenset)
    stamps: dict[Path, Stamp] = field(default_factory=dict)  # the file's and its attachments' stat, when read
    api_error: str | None = None
    estimated: Estimated | None = None  # the offline step: its counts are the API counter's fallback
    source: str | None = None  # the open buffer's text `lines` were split from (identity tells it is current)

    def closed(self) -> DocResult:
        """What a file nobody has open needs: its report (totals, workspace budget, status) and its
        first line (workspace findings sit at the file start). The analysis (parsed document,
        request, attachment bytes) and the other lines are dropped: ~30 KB a file in a big workspace."""
        return replace(self, analysis=None, estimated=None, lines=self.lines[:1], source=None)

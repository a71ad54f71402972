"""Offsets to line/column the way editors count them.

LSP breaks lines at \\n, \\r\\n and \\r only, while YAML also breaks at U+0085, U+2028 and U+2029; every
range promptls shows is computed here so it lands where the editor expects.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from .model import Pos, Span

_LSP_BREAK = re.compile(r"\r\n|\r|\n")


class LineIndex:
    """Maps a code-point offset in `text` to a 0-based line/column, counting line breaks as LSP does
    (\\n, \\r\\n, \\r), so positions agree with editors even where YAML sees extra breaks (U+2028)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0, *(m.end() for m in _LSP_BREAK.finditer(text))]

    def pos(self, index: int) -> Pos:
        index = max(0, min(index, len(self.text)))
        line = bisect_right(self.starts, index) - 1
        return Pos(line, index - self.starts[line])

    def index(self, pos: Pos) -> int:
        """The offset of a line/column (clamped to the text)."""
        if pos.line >= len(self.starts):
            return len(self.text)
        return min(self.starts[max(pos.line, 0)] + max(pos.col, 0), len(self.text))


def position_of(text: str, index: int) -> Pos:
    """Line/column (code points, LSP line breaks) of offset `index` in `text`."""
    return LineIndex(text).pos(index)


def char_span(text: str, index: int) -> Span:
    """A one-character span at `index` (empty at a line break or the end), for pointing at a problem."""
    start = position_of(text, index)
    width = 1 if index < len(text) and text[index] not in "\r\n" else 0
    return Span(start, Pos(start.line, start.col + width))

"""Bounded cost for incremental edits on long lines.

pygls applies every incremental change by converting its range through the position codec, which
walks the line one character at a time in Python (twice per change, ~5 ms for a 16k-character line,
and the same again for each hint and diagnostic position on it). When every character of a line is
one code unit in the client's encoding — any ASCII line, and in UTF-16 any line without astral
characters — the conversion is the identity; this codec answers those with C-speed string checks
and leaves the rest to pygls, so results are identical.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.workspace.position_codec import PositionCodec, ServerTextPosition

_ASTRAL = "\U00010000"


class FastPositionCodec(PositionCodec):
    """pygls's PositionCodec with a constant-time path for lines of one-unit characters."""

    def _one_unit_per_char(self, line: str) -> bool:
        if line.isascii() or self.encoding == types.PositionEncodingKind.Utf32:
            return True
        return self.encoding != types.PositionEncodingKind.Utf8 and max(line, default="") < _ASTRAL

    def client_num_units(self, string: str) -> int:
        return len(string) if self._one_unit_per_char(string) else super().client_num_units(string)

    def position_from_client_units(self, lines: Sequence[str], position: types.Position) -> ServerTextPosition:
        if not lines or position.line >= len(lines):
            return super().position_from_client_units(lines, position)
        line = lines[position.line].replace("\r\n", "\n")
        if not self._one_unit_per_char(line):
            return super().position_from_client_units(lines, position)
        n = len(line)
        # pygls maps a column past the end to the last character (before the line break); so do we.
        character = n - 1 if position.character > n else position.character
        return ServerTextPosition(line=position.line, character=max(min(character, n), 0))

    def position_to_client_units(self, lines: Sequence[str], position: ServerTextPosition | types.Position
                                 ) -> types.Position:
        if position.line < len(lines) and self._one_unit_per_char(lines[position.line][: position.character]):
            return types.Position(line=position.line, character=len(lines[position.line][: position.character]))
        return super().position_to_client_units(lines, position)


def install(server: LanguageServer) -> None:
    """Swap the workspace's codec (made by pygls's initialize, before documents open) for the fast one."""
    workspace = server.workspace
    codec = workspace.position_codec
    if type(codec) is PositionCodec:
        workspace._position_codec = FastPositionCodec(codec.encoding)


class _DropStaleCancel(logging.Filter):
    """VS Code cancels requests that were already answered (inlay hints, code lenses) all the time;
    pygls logs each as a warning on stderr, which the editor's output shows as an error line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Cancel notification for unknown message id")


def quiet_pygls() -> None:
    logging.getLogger("pygls.protocol.json_rpc").addFilter(_DropStaleCancel())

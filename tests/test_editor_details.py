"""What the editors show on top of the counts: where the Σ total sits and what it says, the budget in
the hint and the status, a code lens that cannot go stale, cheap edits on long lines, and a quiet log."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec
from pygls.workspace.text_document import TextDocument

from promptls.config import Config
from promptls.engine import analyze_text, estimate_counts, make_report
from promptls.lsp import codelens, hints, status, textsync
from promptls.lsp.positions import split_lines
from promptls.lsp.server import create_server
from promptls.lsp.state import DocResult
from promptls.model import CountState

CHAT = """\
# A multi-turn chat with a tight budget: promptls warns that it is over, and says by how much.
model: claude-sonnet-4-6
{budget}system: You are Nova, a patient tutor for first-year physics students who like examples.
messages:
  - role: user
    content: Why does a spinning top not fall over? Explain it with an everyday example first.
"""


def result_for(text: str, tmp_path: Path, config: Config | None = None) -> DocResult:
    path = tmp_path / "chat.prompt.yaml"
    config = config or Config(root=tmp_path)
    analysis = analyze_text(text, path, config)
    report = make_report(analysis, estimate_counts(analysis, config), config)
    return DocResult(uri=path.as_uri(), path=path, version=1, lines=split_lines(text), report=report,
                     config=config, state=CountState.ESTIMATE, analysis=analysis)


def all_hints(result: DocResult, level: str = "all") -> list[types.InlayHint]:
    rng = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=len(result.lines),
                                                                                     character=0))
    return hints.inlay_hints(result, result.lines, PositionCodec(), rng, level)


def total_of(result: DocResult) -> types.InlayHint:
    (total,) = [h for h in all_hints(result) if str(h.label).startswith("Σ")]
    return total


def test_total_skips_a_long_first_line_comment_and_sits_after_the_model_line(tmp_path: Path) -> None:
    result = result_for(CHAT.format(budget=""), tmp_path)
    total = total_of(result)
    assert total.position == types.Position(line=1, character=len("model: claude-sonnet-4-6"))
    assert str(total.label).startswith("Σ ≈ ") and "/ 1,000,000 tok" in str(total.label)


def test_total_goes_in_front_of_a_first_line_too_long_to_see_its_end(tmp_path: Path) -> None:
    long_model = "model: claude-sonnet-4-6" + " " * 2 + "#" + "x" * 100
    result = result_for(CHAT.format(budget="").replace("model: claude-sonnet-4-6", long_model), tmp_path)
    total = total_of(result)
    assert (total.position.line, total.position.character, total.padding_right) == (1, 0, True)


def test_file_budget_shows_in_the_total_and_status_and_is_flagged_when_exceeded(tmp_path: Path) -> None:
    over = result_for(CHAT.format(budget="budget: 30\n"), tmp_path)
    label = str(total_of(over).label)
    assert f"Σ ≈ {over.report.total:,} / 30 budget ⚠" in label
    over_status = status.file_status(over)
    assert (over_status["budget"], over_status["overBudget"]) == (30, True)

    under = result_for(CHAT.format(budget="budget: 5000\n"), tmp_path)
    assert f"Σ ≈ {under.report.total:,} / 5,000 budget · $" in str(total_of(under).label)
    assert (status.file_status(under)["budget"], status.file_status(under)["overBudget"]) == (5000, False)


def test_glob_and_default_budgets_count_too_and_none_means_the_window(tmp_path: Path) -> None:
    text = CHAT.format(budget="")
    assert status.budget_of(result_for(text, tmp_path, Config(root=tmp_path, budget=20)))[0] == 20
    from promptls.config import GlobBudget

    globbed = Config(root=tmp_path, budget=5000, budgets=[GlobBudget("*.prompt.yaml", 25)])
    assert status.budget_of(result_for(text, tmp_path, globbed)) == (25, True)
    plain = status.file_status(result_for(text, tmp_path))
    assert (plain["budget"], plain["overBudget"]) == (None, False)


def test_totals_level_shows_only_the_total_and_off_shows_nothing(tmp_path: Path) -> None:
    result = result_for(CHAT.format(budget=""), tmp_path)
    assert [str(h.label)[0] for h in all_hints(result, "totals")] == ["Σ"]
    assert all_hints(result, "off") == []
    assert len(all_hints(result, "all")) > 1


def test_code_lens_carries_no_count_that_could_go_stale(tmp_path: Path) -> None:
    result = result_for(CHAT.format(budget=""), tmp_path)
    (lens,) = codelens.code_lenses(result.uri, True)
    assert lens.command is not None and lens.command.command == "promptls.recount"
    assert not any(ch.isdigit() for ch in lens.command.title)


LINE_TEXT = st.text(alphabet=st.sampled_from(["a", " ", "é", "中", "😋", "\t", "\u2028"]), max_size=30)


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(LINE_TEXT.map(lambda s: s + "\n"), min_size=1, max_size=4), line=st.integers(0, 4),
       character=st.integers(0, 40), encoding=st.sampled_from(list(types.PositionEncodingKind)))
def test_fast_codec_gives_exactly_what_pygls_gives(lines: list[str], line: int, character: int,
                                                    encoding: types.PositionEncodingKind) -> None:
    slow, fast = PositionCodec(encoding), textsync.FastPositionCodec(encoding)
    pos = types.Position(line=line, character=character)
    assert fast.position_from_client_units(lines, pos) == slow.position_from_client_units(
        lines, types.Position(line=line, character=character))
    if line < len(lines):
        server_pos = types.Position(line=line, character=min(character, len(lines[line])))
        assert fast.position_to_client_units(lines, server_pos) == slow.position_to_client_units(lines, server_pos)
        assert fast.client_num_units(lines[line]) == slow.client_num_units(lines[line])


class CountingUnits:
    """Wraps a pygls unit counter and counts the per-character steps it is asked for."""

    def __init__(self, inner: object) -> None:
        self.inner, self.steps = inner, 0

    def code_units_for_char(self, char: str) -> int:
        self.steps += 1
        return self.inner.code_units_for_char(char)  # type: ignore[attr-defined]

    def num_units(self, chars: str) -> int:
        return sum(self.code_units_for_char(c) for c in chars)


@pytest.mark.parametrize("encoding", [types.PositionEncodingKind.Utf16, types.PositionEncodingKind.Utf8])
def test_typing_on_a_16k_character_line_takes_no_per_character_steps(encoding: types.PositionEncodingKind) -> None:
    line = "content: " + "lorem ipsum dolor sit amet " * 600
    assert len(line) > 16_000
    doc_text = f"model: claude-sonnet-4-6\nmessages:\n  - role: user\n    {line}\n"
    results = {}
    for name, codec in (("pygls", PositionCodec(encoding)), ("fast", textsync.FastPositionCodec(encoding))):
        codec.impl = CountingUnits(codec.impl)
        doc = TextDocument("file:///t/a.prompt.yaml", doc_text, version=0, position_codec=codec)
        for i in range(20):  # type a character in the middle of the line, then at its end
            for col in (8_000 + i, len(line) + 4 + i):
                at = types.Position(line=3, character=col)
                doc.apply_change(types.TextDocumentContentChangePartial(
                    range=types.Range(start=at, end=at), text="x"))
        results[name] = (doc.source, codec.impl.steps)
    assert results["fast"][0] == results["pygls"][0]
    assert results["pygls"][1] > 1_000_000  # what VS Code's per-keystroke changes cost before
    assert results["fast"][1] == 0


def test_the_server_uses_the_fast_codec_in_the_negotiated_encoding() -> None:
    server = create_server()
    server.protocol._workspace = None
    from pygls.workspace import Workspace

    server.protocol._workspace = Workspace(None, position_encoding=types.PositionEncodingKind.Utf8)
    textsync.install(server)
    assert isinstance(server.workspace.position_codec, textsync.FastPositionCodec)
    assert server.workspace.position_codec.encoding == types.PositionEncodingKind.Utf8


def test_a_cancel_for_a_finished_request_is_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    textsync.quiet_pygls()
    server = create_server()
    with caplog.at_level(logging.DEBUG, logger="pygls"):
        server.protocol._handle_cancel_notification(4242)
        logging.getLogger("pygls.protocol.json_rpc").warning('Received response to unknown message id "%s"', 7)
    messages = [r.getMessage() for r in caplog.records]
    assert not any("Cancel notification" in m for m in messages)
    assert any("unknown message id" in m for m in messages), "other pygls warnings must still show"

"""The LSP feature modules on prepared results, without a server process: what hints, hovers,
links, completion, diagnostics, code lenses and the status request give for a known file."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

from promptls import pipeline
from promptls.config import Config
from promptls.lsp import codelens, completion, hover, links, status
from promptls.lsp.diagnostics import to_diagnostics
from promptls.lsp.hints import inlay_hints
from promptls.lsp.positions import split_lines
from promptls.lsp.state import DocResult
from promptls.model import CountState, HintLevel

UTF16 = PositionCodec(types.PositionEncodingKind.Utf16)
PROMPT = ("model: claude-sonnet-4-6\n"            # 0
          "system: Be brief. 😀 emoji first\n"     # 1
          "messages:\n"                            # 2
          "  - role: user\n"                       # 3
          "    content: Describe the chart.\n"     # 4
          "attachments:\n"                         # 5
          "  - chart.png\n"                        # 6
          "  - missing.txt\n")                     # 7
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x02\x00\x00\x00\x90\x91h6"
       b"\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\x80\x1f\x00\x00\x02\xff\x01\x00\x8f\xc5\x1b\x95\x00\x00\x00\x00IEND"
       b"\xaeB`\x82")


def prepared(tmp_path: Path, text: str = PROMPT, **cfg: object) -> DocResult:
    """What the server stores after a run: the pipeline's estimate for an open buffer."""
    (tmp_path / "chart.png").write_bytes(PNG)
    path = tmp_path / "a.prompt.yaml"
    path.write_text(text, encoding="utf-8")
    config = Config(root=tmp_path, **cfg)  # type: ignore[arg-type]
    analysis = pipeline.analyze(path, config, text)
    assert not isinstance(analysis, pipeline.FileReport)
    est = pipeline.estimate(analysis, config)
    return DocResult(uri=path.as_uri(), path=path, version=1, lines=split_lines(text), report=est.report,
                     config=config, state=CountState.ESTIMATE, analysis=analysis, estimated=est, source=text)


def everything() -> types.Range:
    return types.Range(start=types.Position(line=0, character=0), end=types.Position(line=100, character=0))


@pytest.mark.parametrize(("level", "lines"), [("all", [0, 1, 3, 6]), ("totals", [0]), ("off", [])])
def test_hint_levels_choose_which_lines_get_a_number(tmp_path: Path, level: HintLevel, lines: list[int]) -> None:
    result = prepared(tmp_path)
    hints = inlay_hints(result, result.lines, UTF16, everything(), level)
    assert [h.position.line for h in hints] == lines  # total, system, the message, the image
    if level != "off":
        total = next(h for h in hints if h.position.line == 0)
        assert str(total.label).startswith("Σ ≈ ") and "/ 1,000,000 tok" in str(total.label)


def test_hint_sits_at_the_line_end_in_utf16_units(tmp_path: Path) -> None:
    result = prepared(tmp_path)
    hints = inlay_hints(result, result.lines, UTF16, everything(), "all")
    assert next(h.label for h in hints if h.position.line == 6) == "≈ 1 tok · 16×16 image"
    hint = next(h for h in hints if h.position.line == 1)
    assert hint.position.character == len(result.lines[1]) + 1  # the emoji is two UTF-16 units


def test_hints_only_for_the_requested_range(tmp_path: Path) -> None:
    result = prepared(tmp_path)
    rng = types.Range(start=types.Position(line=3, character=0), end=types.Position(line=4, character=0))
    assert {h.position.line for h in inlay_hints(result, result.lines, UTF16, rng, "all")} == {3}


def test_hover_on_a_part_gives_its_share_and_on_model_the_model_facts(tmp_path: Path) -> None:
    result = prepared(tmp_path)
    on_system = hover.hover(result, result.lines, types.Position(line=1, character=3), UTF16)
    assert on_system is not None and isinstance(on_system.contents, types.MarkupContent)
    assert "input tokens (estimate)" in on_system.contents.value and "of this file's" in on_system.contents.value
    on_model = hover.hover(result, result.lines, types.Position(line=0, character=10), UTF16)
    assert on_model is not None and isinstance(on_model.contents, types.MarkupContent)
    assert "context window: 1,000,000 tokens" in on_model.contents.value
    assert hover.hover(result, result.lines, types.Position(line=2, character=0), UTF16) is None


def test_links_only_for_attachments_that_exist_inside_the_root(tmp_path: Path) -> None:
    result = prepared(tmp_path)
    found = links.document_links(result, UTF16, tooltips=True)
    assert [(link.range.start.line, link.target) for link in found] == [(6, (tmp_path / "chart.png").as_uri())]
    assert found[0].tooltip == "open chart.png"


def test_completion_of_roles_and_top_level_keys(tmp_path: Path) -> None:
    lines = ["messages:", "  - role: us"]
    got = completion.complete(lines, types.Position(line=1, character=12), UTF16, tmp_path / "a.prompt.yaml",
                              Config(root=tmp_path))
    assert got is not None and [i.label for i in got.items] == ["user", "assistant", "system"]
    edit = got.items[0].text_edit
    assert isinstance(edit, types.TextEdit) and edit.range.start.character == 10
    top = completion.complete(["mo"], types.Position(line=0, character=2), UTF16, tmp_path / "a.prompt.yaml",
                              Config(root=tmp_path))
    assert top is not None and "model" in [i.label for i in top.items]


def test_diagnostics_carry_code_severity_and_utf16_range(tmp_path: Path) -> None:
    result = prepared(tmp_path, budget=5)
    diags = to_diagnostics(result.report.findings, result.lines, UTF16)
    by_code = {str(d.code): d for d in diags}
    assert by_code["attachment-missing"].range.start.line == 7
    assert by_code["attachment-missing"].severity == types.DiagnosticSeverity.Error
    assert by_code["budget-exceeded"].source == "promptls"


def test_code_lens_and_status_show_the_total(tmp_path: Path) -> None:
    result = prepared(tmp_path)
    (lens,) = codelens.code_lenses(result.uri, True)
    assert lens.command is not None and lens.command.arguments == [result.uri]
    assert lens.command.title == codelens.TITLE  # no number: editors cache lenses (the Σ hint has it)
    st = status.file_status(result)
    assert st["state"] == "estimate" and st["total"] == result.report.total > 0
    assert [p["line"] for p in st["parts"] if p["id"] == "system"] == [1]

"""End to end: the real server over stdio, as VS Code and Neovim drive it (captured capabilities)."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types

from tests.fakeapi import FakeAnthropic, Fault

from .conftest import WAIT_S, Session, StartSession, api_env, wait_until

PROMPT = """\
model: claude-sonnet-4-6
system: You are a careful analyst. Ünïcødé 😀 text.
messages:
  - role: user
    content: Summarise the filing in three short bullet points for the board.
budget:
  input_tokens: 5
"""
SMALL = """\
model: claude-sonnet-4-6
messages:
  - role: user
    content: {text}
"""


def units(session: Session, text: str) -> int:
    """Column of the end of `text` in the encoding the client negotiated (Neovim: utf-8)."""
    if session.name == "neovim":
        return len(text.encode("utf-8"))
    return len(text.encode("utf-16-le")) // 2


async def opened(session: Session, rel: str, text: str | None = None) -> str:
    uri = session.open(rel, text)
    await wait_until(lambda: uri in session.client.diagnostics, what=f"diagnostics for {rel}")
    return uri


async def test_hints_and_diagnostics_on_open(lsp_session: StartSession) -> None:
    session = await lsp_session({"a.prompt.yaml": PROMPT})
    uri = await opened(session, "a.prompt.yaml")
    diags = await session.wait_diagnostics(uri, lambda ds: any(d.code == "budget-exceeded" for d in ds),
                                           "budget diagnostic")
    (budget,) = [d for d in diags if d.code == "budget-exceeded"]
    assert budget.source == "promptls"
    assert budget.severity == types.DiagnosticSeverity.Warning
    assert budget.range.start.line == 5  # the `budget:` key, not line 0

    hints = await session.hints(uri)
    by_line = {line: (col, label) for line, col, label in hints if not label.startswith("Σ")}
    (total,) = [label for line, _, label in hints if label.startswith("Σ")]
    assert total.startswith("Σ ≈ ") and "/ 5 budget ⚠" in total and "$" in total  # the file is over its budget
    system_line = PROMPT.splitlines()[1]
    assert by_line[1] == (units(session, system_line), by_line[1][1])
    assert by_line[1][1].startswith("≈ ") and by_line[1][1].endswith(" tok")
    assert "tok" in by_line[3][1]
    assert session.codes(uri).count("budget-exceeded") == 1

    only_first = await session.hints(uri, 0, 0)
    assert [label for _, _, label in only_first] == [total]
    status = await session.status(uri)
    assert status is not None and status["state"] == "no-key" and status["exact"] is False
    assert status["total"] > 5 and [p["line"] for p in status["parts"]][:2] == [1, 3]


async def test_burst_of_twenty_edits_counts_once(lsp_session: StartSession) -> None:
    session = await lsp_session({"a.prompt.yaml": SMALL.format(text="one")}, settings={"debounceMs": 250})
    uri = await opened(session, "a.prompt.yaml")
    first = await session.wait_status(uri, lambda s: s["total"] > 0, "first count")
    session.published.clear()
    words = "one"
    for i in range(20):
        words += f" word{i}"
        session.change(uri, SMALL.format(text=words))
    await wait_until(lambda: (uri, 21) in session.published, what="publication of version 21")
    stats = await session.stats()
    assert stats["runs"][uri] == 2  # the open, then one run for the whole burst
    assert [v for u, v in session.published if u == uri] == [21]
    last = await session.status(uri)
    assert last is not None and last["total"] > first["total"]


async def test_estimate_then_exact_from_the_api(lsp_session: StartSession, fake_api: FakeAnthropic) -> None:
    fake_api.script(Fault(delay=1.0))  # the first count_tokens call is slow: the estimate shows first
    session = await lsp_session({"a.prompt.yaml": PROMPT}, env=api_env(fake_api))
    uri = session.open("a.prompt.yaml")
    counting = await session.wait_status(uri, lambda s: s["state"] == "counting", "the estimate")
    assert counting["exact"] is False
    assert all("≈" in label for _, _, label in await session.hints(uri))
    exact = await session.wait_status(uri, lambda s: s["state"] == "exact", "the exact count")
    assert exact["exact"] is True and fake_api.requests >= 1
    hints = await session.hints(uri)
    (total,) = [label for _, _, label in hints if label.startswith("Σ")]
    assert total.startswith(f"Σ {exact['total']:,} /")
    assert not any("≈" in label for _, _, label in hints if label.startswith(("Σ", "system")))
    if session.name == "neovim":
        assert session.refreshes >= 2  # estimate, then exact


async def test_models_api_windows_reach_the_diagnostics(lsp_session: StartSession, fake_api: FakeAnthropic) -> None:
    fake_api.models = [{"id": "claude-sonnet-4-6", "max_input_tokens": 10, "max_tokens": 64_000}]
    session = await lsp_session({"a.prompt.yaml": SMALL.format(text="Summarise the filing in three points.")},
                                env=api_env(fake_api))
    uri = session.open("a.prompt.yaml")
    await session.wait_diagnostics(uri, lambda ds: "context-window-exceeded" in [d.code for d in ds],
                                   "the window from GET /v1/models (10 tokens) instead of the table's 1,000,000")
    status = await session.wait_status(uri, lambda s: s["contextWindow"] == 10, "the status with the new window")
    assert status["total"] > 10 and fake_api.model_listings == 1


async def test_workspace_budget_across_three_files(lsp_session: StartSession) -> None:
    texts = {"a": "Prompt a asks about the weather.", "b": "Prompt b asks about the weather today, please.",
             "c": "Prompt c asks a much longer question about the weather today and tomorrow, in detail."}
    files = {f"p/{n}.prompt.yaml": SMALL.format(text=t) for n, t in texts.items()}
    session = await lsp_session({"promptls.toml": "workspace_budget = 40\n", **files})
    c = session.uri("p/c.prompt.yaml")  # never opened: diagnostics come from the workspace index
    await session.wait_diagnostics(c, lambda ds: [d.code for d in ds] == ["workspace-budget-exceeded"],
                                   "workspace finding on the largest file")
    assert "workspace total" in session.diagnostics(c)[0].message
    a = await opened(session, "p/a.prompt.yaml")
    await session.wait_status(a, lambda s: s["total"] > 0, "count of a")
    # once, not on every file: the other files do not repeat it
    assert "workspace-budget-exceeded" not in session.codes(a)
    assert "workspace-budget-exceeded" not in session.codes(session.uri("p/b.prompt.yaml"))
    assert any(p for p in session.client.progress_reports.values())  # $/progress while indexing
    assert (await session.stats())["indexed"] == 3


async def test_tool_use_system_prompt_is_a_row_of_the_file_status(lsp_session: StartSession) -> None:
    text = ("model: claude-sonnet-4-6\ntools:\n  - name: a\n    description: A.\n    input_schema: {type: object}\n"
            "messages:\n  - role: user\n    content: Hi\n")
    session = await lsp_session({"t.prompt.yaml": text})
    uri = await opened(session, "t.prompt.yaml")
    status = await session.wait_status(uri, lambda s: s["total"] > 0, "count")
    parts = {p["id"]: p for p in status["parts"]}
    assert parts["tools.system"]["label"] == "tool-use system prompt" and parts["tools.system"]["line"] == 1
    assert parts["tools.system"]["tokens"] + parts["tools[0]"]["tokens"] == parts["tools"]["tokens"]
    hints = await session.hints(uri)
    assert len([h for h in hints if h[0] == 1]) == 1  # one hint on the `tools:` line, not two


async def test_attachment_change_triggers_recount(lsp_session: StartSession) -> None:
    files = {"notes.txt": "short note\n",
             "a.prompt.yaml": SMALL.format(text="Read the notes.") + "attachments:\n  - notes.txt\n"}
    session = await lsp_session(files)
    uri = await opened(session, "a.prompt.yaml")
    before = await session.wait_status(uri, lambda s: s["total"] > 0, "first count")
    (session.root / "notes.txt").write_text("a much longer note " * 200, encoding="utf-8")
    watched = any(r.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES for r in session.registrations)
    assert watched == (session.name != "neovim")  # Neovim on Linux has no dynamic file watching
    if watched:
        session.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
            types.FileEvent(uri=session.uri("notes.txt"), type=types.FileChangeType.Changed)]))
    after = await session.wait_status(uri, lambda s: s["total"] > before["total"] + 500, "the recount")
    assert after["total"] > before["total"]


async def test_config_change_rechecks(lsp_session: StartSession) -> None:
    text = SMALL.format(text="A question that costs a few tokens.")
    session = await lsp_session({"a.prompt.yaml": text}, settings={"budget": 100_000})
    uri = await opened(session, "a.prompt.yaml")
    await session.wait_status(uri, lambda s: s["total"] > 0, "first count")
    assert "budget-exceeded" not in session.codes(uri)
    session.client.set_configuration({"promptls": {"budget": 5}})
    session.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await session.wait_diagnostics(uri, lambda ds: "budget-exceeded" in [d.code for d in ds],
                                   "budget from the new editor settings")

    session.client.set_configuration({"promptls": {}})
    (session.root / "promptls.toml").write_text("budget = 100000\n", encoding="utf-8")
    if any(r.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES for r in session.registrations):
        session.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
            types.FileEvent(uri=session.uri("promptls.toml"), type=types.FileChangeType.Created)]))
    session.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await session.wait_diagnostics(uri, lambda ds: "budget-exceeded" not in [d.code for d in ds],
                                   "budget lifted by promptls.toml")


async def test_bad_documents_keep_the_server_serving(lsp_session: StartSession) -> None:
    session = await lsp_session({"a.prompt.yaml": PROMPT})
    uri = await opened(session, "a.prompt.yaml")
    await session.wait_status(uri, lambda s: s["total"] > 0, "first count")
    good_labels = [label for _, _, label in await session.hints(uri)]
    broken = PROMPT.replace("  - role: user\n", "  - role: [user\n")  # mid-typing: an unclosed flow list
    session.change(uri, broken)
    diags = await session.wait_diagnostics(uri, lambda ds: any(str(d.code).startswith("yaml") for d in ds),
                                           "the YAML error")
    yaml_error = next(d for d in diags if str(d.code).startswith("yaml"))
    assert yaml_error.severity == types.DiagnosticSeverity.Error and yaml_error.range.start.line >= 3
    assert [label for _, _, label in await session.hints(uri)] == good_labels  # kept while typing

    for garbage in ("\x00\x01\x02 binary", "a: &x [*x, *x]\n" * 50, "- just\n- a list\n", ":" * 10_000):
        session.change(uri, garbage)
    await wait_until(lambda: (uri, session.versions[uri]) in session.published, what="garbage handled")
    assert session.diagnostics(uri)
    hover = await session.client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=0, character=0)))
    assert hover is None or hover.contents
    session.change(uri, PROMPT)
    await wait_until(lambda: (uri, session.versions[uri]) in session.published, what="recovery")
    assert "budget-exceeded" in session.codes(uri)


async def test_hover_completion_links_and_lens(lsp_session: StartSession) -> None:
    text = PROMPT + "attachments:\n  - docs/notes.txt\n"
    session = await lsp_session({"a.prompt.yaml": text, "docs/notes.txt": "hello\n", "docs/chart.png": b"x"})
    uri = await opened(session, "a.prompt.yaml")
    await session.wait_status(uri, lambda s: s["total"] > 0, "first count")
    doc = types.TextDocumentIdentifier(uri=uri)

    hover = await session.client.text_document_hover_async(types.HoverParams(
        text_document=doc, position=types.Position(line=1, character=3)))
    assert hover is not None and "input tokens" in hover.contents.value and "of this file" in hover.contents.value
    model = await session.client.text_document_hover_async(types.HoverParams(
        text_document=doc, position=types.Position(line=0, character=2)))
    assert model is not None and "context window" in model.contents.value and "$" in model.contents.value

    async def labels(line: int, char: int) -> list[str]:
        result = await session.client.text_document_completion_async(types.CompletionParams(
            text_document=doc, position=types.Position(line=line, character=char)))
        items = result.items if isinstance(result, types.CompletionList) else (result or [])
        return [i.label for i in items]

    session.change(uri, text.replace("model: claude-sonnet-4-6", "model: claude-"))
    assert "claude-sonnet-4-6" in await labels(0, len("model: claude-"))
    session.change(uri, text.replace("  - role: user", "  - role: "))
    assert set(await labels(3, len("  - role: "))) >= {"user", "assistant"}
    session.change(uri, text.replace("  - docs/notes.txt", "  - docs/"))
    assert set(await labels(8, len("  - docs/"))) >= {"notes.txt", "chart.png"}
    session.change(uri, text.replace("model: claude-sonnet-4-6", "mo"))
    assert "messages" in await labels(0, 2)
    session.change(uri, text)
    await wait_until(lambda: (uri, session.versions[uri]) in session.published, what="recount")

    links = await session.client.text_document_document_link_async(types.DocumentLinkParams(text_document=doc))
    assert [(link.range.start.line, link.target) for link in links] == [(8, session.uri("docs/notes.txt"))]
    lenses = await session.client.text_document_code_lens_async(types.CodeLensParams(text_document=doc))
    assert [lens.command.command for lens in lenses] == ["promptls.recount"]
    runs = (await session.stats())["runs"][uri]
    await session.client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="promptls.recount", arguments=[uri]))
    await wait_until(lambda: len(session.status_changes) > 0, what="status")
    session.status_changes.clear()
    await session.wait_status(uri, lambda s: True, "recount status")
    assert (await session.stats())["runs"][uri] > runs


@pytest.mark.parametrize("client_name", ["neovim"])
async def test_close_clears_diagnostics(lsp_session: StartSession) -> None:
    session = await lsp_session({"a.prompt.yaml": PROMPT})
    uri = await opened(session, "a.prompt.yaml")
    await session.wait_diagnostics(uri, lambda ds: bool(ds), "diagnostics")
    session.close(uri)
    await session.wait_diagnostics(uri, lambda ds: not ds, "cleared diagnostics")


@pytest.mark.parametrize("client_name", ["visual_studio_code"])
async def test_pull_diagnostics_when_the_client_can_refresh(lsp_session: StartSession) -> None:
    session = await lsp_session({"a.prompt.yaml": PROMPT}, caps="vscode-pull")
    assert (await session.stats())["diagnosticMode"] == "pull"
    uri = session.open("a.prompt.yaml")

    async def pull() -> list[str]:
        report = await session.client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))
        return [str(d.code) for d in report.items]

    # As VS Code does: pull, and pull again whenever the server asks (`workspace/diagnostic/refresh`).
    # The first pull waits for the run (bounded); on a slow machine the count can land after it.
    async with asyncio.timeout(WAIT_S):
        while True:
            seen = session.diagnostic_refreshes
            if "budget-exceeded" in await pull():
                break
            await wait_until(lambda s=seen: session.diagnostic_refreshes > s, what="a diagnostic refresh")
    await session.wait_status(uri, lambda s: s["total"] > 0, "count")
    assert session.published == []  # never both push and pull


@pytest.mark.parametrize("client_name", ["neovim"])
async def test_neovim_gets_push_diagnostics(lsp_session: StartSession) -> None:
    session = await lsp_session({"a.prompt.yaml": PROMPT})
    # Neovim 0.11 can pull but cannot be told to pull again when the exact count lands.
    assert (await session.stats())["diagnosticMode"] == "push"


@pytest.mark.parametrize("client_name", ["visual_studio_code"])  # the extension's untrusted mode
async def test_untrusted_workspace_never_calls_the_api(lsp_session: StartSession, fake_api: FakeAnthropic
                                                       ) -> None:
    session = await lsp_session({"a.prompt.yaml": PROMPT}, env=api_env(fake_api),
                                init_options={"trusted": False})
    uri = await opened(session, "a.prompt.yaml")
    status = await session.wait_status(uri, lambda s: s["total"] > 0, "count")
    assert status["state"] == "offline" and status["exact"] is False
    assert fake_api.requests == 0

"""The root's `include` globs decide what the server treats as a prompt file (issue 12): a `.yml` they
name is discovered, indexed, watched and gets diagnostics, hints and a lens when opened; any other YAML
file the editor sends (the VS Code client sends them all) gets nothing from us."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types

from promptls.config import Config
from promptls.lsp.workspace_index import WorkspaceIndex

from .conftest import WAIT_S, Session, StartSession
from .test_closed_files import closed_status
from .test_server import SMALL, opened

CONFIG = 'include = ["**/*.prompt.yaml", "examples/*.yml"]\nbudget = 5\n'
WORKFLOW = "name: ci\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps: [{run: make}]\n"


def files() -> dict[str, str | bytes]:
    return {
        "promptls.toml": CONFIG,
        "examples/summarise.yml": SMALL.format(text="Summarise the quarterly filing for the board, briefly."),
        "examples/closed.yml": SMALL.format(text="Never opened, still counted."),
        "examples/nested/deeper.yml": SMALL.format(text="Not named by examples/*.yml."),
        "a.prompt.yaml": SMALL.format(text="A GitHub Models name, also in include."),
        ".github/workflows/ci.yml": WORKFLOW,
    }


async def no_status(session: Session, rel: str) -> None:
    assert await session.status(session.uri(rel)) is None, rel


@pytest.mark.parametrize("client_name", ["visual_studio_code"])
async def test_a_yml_named_by_include_is_a_prompt_file(lsp_session: StartSession) -> None:
    session = await lsp_session(files())
    await closed_status(session, "examples/closed.yml", "no-key")  # discovered and indexed while closed
    uri = await opened(session, "examples/summarise.yml")
    diags = await session.wait_diagnostics(uri, lambda ds: "budget-exceeded" in [d.code for d in ds],
                                           "the budget finding on the included .yml")
    assert all(d.source == "promptls" for d in diags)
    assert any(label.startswith("Σ") for *_, label in await session.hints(uri))
    lenses = await session.client.text_document_code_lens_async(types.CodeLensParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    assert lenses and lenses[0].command is not None and lenses[0].command.command == "promptls.recount"
    stats = await session.stats()
    assert stats["indexed"] == 3  # summarise.yml, closed.yml, a.prompt.yaml


@pytest.mark.parametrize("client_name", ["visual_studio_code", "neovim"])
async def test_yaml_that_include_does_not_name_gets_nothing(lsp_session: StartSession) -> None:
    session = await lsp_session(files())
    workflow = session.open(".github/workflows/ci.yml", WORKFLOW)
    deeper = session.open("examples/nested/deeper.yml")
    # a prompt file opened after them: once its diagnostics are in, theirs would have been too
    await opened(session, "a.prompt.yaml")
    for uri in (workflow, deeper):
        assert uri not in session.client.diagnostics
        assert await session.hints(uri) == []
        assert not await session.client.text_document_code_lens_async(types.CodeLensParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))
        assert await session.client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=0, character=1))) is None
        completion = await session.client.text_document_completion_async(types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=1, character=0)))
        assert completion is None or not completion.items
    await no_status(session, ".github/workflows/ci.yml")
    await no_status(session, "examples/nested/deeper.yml")
    runs = (await session.stats())["runs"]
    assert workflow not in runs and deeper not in runs  # never analysed, not only not shown
    session.change(workflow, WORKFLOW + "env: {A: b}\n")  # typing in it changes nothing either
    await opened(session, "examples/summarise.yml")
    assert workflow not in session.client.diagnostics


@pytest.mark.parametrize("client_name", ["visual_studio_code"])
async def test_a_new_yml_named_by_include_is_picked_up_from_disk(lsp_session: StartSession) -> None:
    session = await lsp_session(files())
    await closed_status(session, "examples/closed.yml", "no-key")
    for rel in ("examples/new.yml", "notes/new.yml"):
        (session.root / rel).parent.mkdir(parents=True, exist_ok=True)
        (session.root / rel).write_text(SMALL.format(text="Written after the index ran."), encoding="utf-8")
    session.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
        types.FileEvent(uri=session.uri(rel), type=types.FileChangeType.Created)
        for rel in ("examples/new.yml", "notes/new.yml")]))
    status = await closed_status(session, "examples/new.yml", "no-key")
    assert status["total"] > 0
    await no_status(session, "notes/new.yml")


@pytest.mark.parametrize("client_name", ["visual_studio_code"])
async def test_narrowing_include_forgets_what_it_no_longer_names(lsp_session: StartSession) -> None:
    session = await lsp_session(files())
    uri = await opened(session, "examples/summarise.yml")
    await session.wait_diagnostics(uri, lambda ds: "budget-exceeded" in [d.code for d in ds], "the budget finding")
    (session.root / "promptls.toml").write_text('include = ["**/*.prompt.yaml"]\nbudget = 5\n', encoding="utf-8")
    session.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
        types.FileEvent(uri=session.uri("promptls.toml"), type=types.FileChangeType.Changed)]))
    async with asyncio.timeout(WAIT_S):
        while session.diagnostics(uri) or await session.status(uri) is not None:
            await asyncio.sleep(0.05)
    await no_status(session, "examples/closed.yml")


def test_discovery_follows_each_roots_include_and_exclude(tmp_path: Path) -> None:
    for rel in ("examples/a.yml", "examples/b.yaml", "examples/deep/c.yml", "p.prompt.yaml", "build/examples/d.yml",
                "other/examples/e.yml", "ci.yml"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("messages: []\n", encoding="utf-8")
    config = Config(root=tmp_path, include=("examples/*.yml", "**/*.prompt.yaml"))

    def names(folders: list[Path], cfg: Config) -> list[str]:
        return sorted(f.path.relative_to(tmp_path).as_posix() for f in WorkspaceIndex.discover(folders, lambda _: cfg))

    assert names([tmp_path], config) == ["examples/a.yml", "p.prompt.yaml"]
    # the globs are relative to the root, not to the folder the editor opened
    assert names([tmp_path / "examples"], config) == ["examples/a.yml"]
    # nested workspace folders: each file once
    assert names([tmp_path, tmp_path / "examples"], config) == ["examples/a.yml", "p.prompt.yaml"]
    assert names([tmp_path], Config(root=tmp_path, include=("**/examples/*.yml",))) == [
        "examples/a.yml", "other/examples/e.yml"]  # build/ stays excluded by default
    assert names([tmp_path], Config(root=tmp_path)) == ["p.prompt.yaml"]  # the default: GitHub Models names

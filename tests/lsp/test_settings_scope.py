"""Editor settings end to end: pulled per workspace folder (scopeUri), bad values shown to the user."""

from __future__ import annotations

import pytest
from lsprotocol import types

from .conftest import StartSession, wait_until
from .test_server import SMALL, opened


@pytest.mark.parametrize("client_name", ["visual_studio_code"])
async def test_folder_settings_win_over_the_unscoped_answer(lsp_session: StartSession) -> None:
    session = await lsp_session({"a.prompt.yaml": SMALL.format(text="Summarise the filing.")},
                                settings={"budget": 100_000})
    uri = await opened(session, "a.prompt.yaml")
    assert "budget-exceeded" not in session.codes(uri)
    session.client.set_configuration({"promptls": {"budget": 3}}, scope_uri=session.root.as_uri())
    session.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await session.wait_diagnostics(uri, lambda ds: "budget-exceeded" in [d.code for d in ds],
                                   "the folder's budget of 3 tokens")


@pytest.mark.parametrize("client_name", ["visual_studio_code"])
async def test_a_bad_editor_value_is_shown_and_the_file_setting_stays(lsp_session: StartSession) -> None:
    session = await lsp_session({"promptls.toml": "budget = 3\n",
                                 "a.prompt.yaml": SMALL.format(text="Summarise the filing.")},
                                settings={"budget": "lots", "hints": "some"})
    uri = await opened(session, "a.prompt.yaml")
    await wait_until(lambda: session.client.messages, what="a message about the bad settings")
    (message,) = [m.message for m in session.client.messages]
    assert "`promptls.budget` must be a positive integer" in message
    assert "`promptls.hints` must be one of all, totals, off" in message
    await session.wait_diagnostics(uri, lambda ds: "budget-exceeded" in [d.code for d in ds],
                                   "the promptls.toml budget, kept under the bad editor value")

"""Fixtures for the robustness tests: the LSP harness of tests/lsp (one client, to stay fast), and the
fake endpoint (whose `log` records when each request arrived and which fault it got)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest_api import serve
from tests.fakeapi import CANARY_KEY, FakeAnthropic
from tests.lsp.conftest import lsp_session  # noqa: F401  (re-exported fixture)


@pytest.fixture
def client_name() -> str:
    """Neovim's captured capabilities: push diagnostics, no file watching, utf-8 positions offered."""
    return "neovim"


@pytest.fixture
def timed_api(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeAnthropic]:
    """The fake endpoint; its `log` holds (arrival time, fault played) for each count request."""
    yield from serve(FakeAnthropic(CANARY_KEY), monkeypatch, tmp_path)

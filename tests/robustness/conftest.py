"""Fixtures for the robustness tests: the LSP harness of tests/lsp (one client, to stay fast), and a fake
endpoint that also records when each request arrived and which fault it got."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakeapi import CANARY_KEY, FakeAnthropic, Fault
from tests.lsp.conftest import lsp_session  # noqa: F401  (re-exported fixture)


class TimedFake(FakeAnthropic):
    """The fake count_tokens endpoint, plus (monotonic arrival time, fault played) per request."""

    def __init__(self, key: str = CANARY_KEY) -> None:
        super().__init__(key)
        self.log: list[tuple[float, Fault | None]] = []

    def _next_fault(self) -> Fault | None:
        fault = super()._next_fault()
        with self._lock:
            self.log.append((time.monotonic(), fault))
        return fault


@pytest.fixture
def client_name() -> str:
    """Neovim's captured capabilities: push diagnostics, no file watching, utf-8 positions offered."""
    return "neovim"


@pytest.fixture
def timed_api(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[TimedFake]:
    fake = TimedFake().start()
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", CANARY_KEY)
    monkeypatch.setenv("PROMPTLS_CACHE_DIR", str(tmp_path / "promptls-cache"))
    try:
        yield fake
    finally:
        fake.stop()

"""Pytest fixtures for the fake count_tokens endpoint (loaded as a plugin: `tests.conftest_api`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakeapi import CANARY_KEY, FakeAnthropic


@pytest.fixture
def fake_api(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeAnthropic]:
    """A running fake endpoint; ANTHROPIC_BASE_URL/ANTHROPIC_API_KEY point at it (key = CANARY_KEY)
    and PROMPTLS_CACHE_DIR is a fresh temporary directory, so nothing touches the user's cache."""
    yield from serve(FakeAnthropic(CANARY_KEY), monkeypatch, tmp_path)


def serve(fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeAnthropic]:
    """Start `fake`, point the environment at it for the test, stop it afterwards."""
    fake.start()
    monkeypatch.setenv("ANTHROPIC_BASE_URL", fake.url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", fake.key)
    monkeypatch.setenv("PROMPTLS_CACHE_DIR", str(tmp_path / "promptls-cache"))
    try:
        yield fake
    finally:
        fake.stop()

"""The persistent memo of text counts: a second run never tokenizes remembered text; trouble is harmless."""

from pathlib import Path

import pytest

from promptls.counting import estimate, tokenizer
from promptls.counting.textcache import TextCountStore, text_key


@pytest.fixture
def fresh_memory():
    estimate.clear_caches()
    yield
    estimate.use_store(None)
    estimate.clear_caches()


def _calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = tokenizer.content_tokens

    def spy(text: str, version: str) -> int:
        calls.append(text)
        return real(text, version)

    monkeypatch.setattr(tokenizer, "content_tokens", spy)
    return calls


def test_counts_survive_a_new_process_without_ctok(tmp_path: Path, monkeypatch, fresh_memory) -> None:
    text = "Quarterly revenue grew 12% while churn fell; explain the drivers in two sentences."
    store = TextCountStore(tmp_path / "t.sqlite3")
    estimate.use_store(store)
    first = estimate.text_tokens(text, "3.0")
    store.close()

    estimate.clear_caches()  # as if a new process started
    calls = _calls(monkeypatch)
    estimate.use_store(TextCountStore(tmp_path / "t.sqlite3"))
    assert estimate.text_tokens(text, "3.0") == first
    assert calls == []
    assert estimate.text_tokens(text, "4.8") > 0 and calls == [text]  # another tokenizer is another key


def test_corrupt_file_is_recreated(tmp_path: Path, fresh_memory) -> None:
    path = tmp_path / "t.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    store = TextCountStore(path)
    store.put(text_key("3.0", "x"), 5)
    store.flush()
    assert store.get(text_key("3.0", "x")) == 5
    assert path.with_suffix(".corrupt").exists()


def test_unwritable_path_disables_the_store(tmp_path: Path, fresh_memory) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    store = TextCountStore(blocker / "t.sqlite3")  # a file where a folder should be
    estimate.use_store(store)
    assert estimate.text_tokens("hello there", "3.0") > 0
    store.flush()

"""What one endpoint answered is never shown for another, and nothing read back from the cache folder is
trusted blindly (issue 11, items 4, 7, 8): counts, model limits and calibration are bound to the endpoint;
tampered numbers count as missing; a damaged side file is ignored with a note, never a traceback."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from promptls.counting.cache import CountCache
from tests.fakeapi import CANARY_KEY, FakeAnthropic

PROMPT = ("model: claude-sonnet-4-6\nsystem: You answer in one line.\nmessages:\n  - role: user\n"
          "    content: What is the capital of France, and why is it that one?\n")


class Poisoner(FakeAnthropic):
    """An endpoint that answers 1 token for anything and lists a 10-token context window."""

    def __init__(self) -> None:
        super().__init__(CANARY_KEY)
        self.models = [{"id": "claude-sonnet-4-6", "max_input_tokens": 10, "max_tokens": 5}]

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        h.rfile.read(int(h.headers.get("content-length") or 0))
        self._next_fault()
        self._send_json(h, 200, {"input_tokens": 1})


@pytest.fixture
def endpoints() -> Iterator[tuple[FakeAnthropic, Poisoner]]:
    honest, poisoner = FakeAnthropic(CANARY_KEY).start(), Poisoner().start()
    honest.models = [{"id": "claude-sonnet-4-6", "max_input_tokens": 1_000_000, "max_tokens": 64_000}]
    yield honest, poisoner
    honest.stop()
    poisoner.stop()


def project(tmp_path: Path, name: str) -> Path:
    root = tmp_path / name
    (root / ".git").mkdir(parents=True)
    (root / "q.prompt.yaml").write_text(PROMPT, encoding="utf-8")
    return root


def check(root: Path, cache: Path, url: str | None, *extra: str) -> tuple[int, dict, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    env.update({"PROMPTLS_CACHE_DIR": str(cache), "ANTHROPIC_API_KEY": CANARY_KEY})
    if url is not None:
        env["ANTHROPIC_BASE_URL"] = url
    out = subprocess.run([sys.executable, "-m", "promptls", "check", "--format", "json", *extra, str(root)],
                         capture_output=True, text=True, timeout=120, env=env, cwd=root)
    assert "Traceback" not in out.stderr, out.stderr
    return out.returncode, json.loads(out.stdout)["files"][0], out.stderr


def test_one_endpoint_never_poisons_another_projects_numbers(tmp_path: Path,
                                                             endpoints: tuple[FakeAnthropic, Poisoner]) -> None:
    honest, poisoner = endpoints
    cache = tmp_path / "shared-cache"
    _, clean_estimate, _ = check(project(tmp_path, "ref"), tmp_path / "own-cache", None, "--mode", "offline")

    _, poisoned, _ = check(project(tmp_path, "elsewhere"), cache, poisoner.url)
    assert (poisoned["total"], poisoned["exact"], poisoned["context_window"]) == (1, True, 10)

    code, report, _ = check(project(tmp_path, "mine"), cache, honest.url)
    assert honest.requests >= 1 and honest.model_listings == 1  # asked its own endpoint, not the cache
    assert report["exact"] and report["total"] > 10 and report["context_window"] == 1_000_000
    assert code == 0  # within the real window: not "over the context window of 10"

    _, offline, _ = check(project(tmp_path, "mine-offline"), cache, None, "--mode", "offline")
    assert offline["total"] == clean_estimate["total"]  # the poisoner's calibration did not shift it


def test_tampered_counts_are_refetched_not_shown(tmp_path: Path, endpoints: tuple[FakeAnthropic, Poisoner]) -> None:
    honest, _ = endpoints
    cache = tmp_path / "cache"
    root = project(tmp_path, "p")
    _, first, _ = check(root, cache, honest.url)
    assert first["exact"] and first["total"] > 0
    for tampered in (-5, 10**12, "twelve", 3.5, b"\x01"):
        with sqlite3.connect(cache / "counts.sqlite3") as db:
            db.execute("UPDATE counts SET tokens = ?", (tampered,))
        honest.reset_counters()
        code, again, _ = check(root, cache, honest.url)
        assert (again["total"], again["exact"], code) == (first["total"], True, 0), tampered
        assert honest.requests >= 1, f"{tampered!r} was used instead of asking again"


def test_tampered_calibration_is_ignored(tmp_path: Path) -> None:
    cache = CountCache(tmp_path / "c", endpoint="https://api.example:443")
    cache.record_calibration("m", exact=1200, raw_estimate=1000, shown_estimate=1000)
    assert cache.correction("m") == pytest.approx(1.2)
    assert cache.correction("m", endpoint="http://127.0.0.1:9") == 1.0  # learned for one endpoint only
    for ratio in (float("inf"), -1.0, 0, "x", b"\x01"):  # (SQLite stores NaN as NULL: refused)
        cache._run("UPDATE endpoint_calibration SET ratio = ?", (ratio,))
        assert cache.correction("m") == 1.0, ratio
    cache._run("UPDATE endpoint_calibration SET ratio = 1e300, n = -3")
    assert cache.correction("m") == 2.0  # bounded
    assert cache.calibration_report() == []  # a count of -3 samples is not one a run leaves


def _limits(entry: object, fetched_at: object = "NOW") -> bytes:
    return json.dumps({"fetched_at": fetched_at, "limits": {"claude-sonnet-4-6": entry}}).encode()


DAMAGE = {
    "not-json": b"\x00\xffgarbage{",
    "entry-not-a-table": _limits(5),
    "negative-window": _limits({"context_window": -1}),
    "string-window": _limits({"context_window": "10"}),
    "time-not-a-number": _limits({"context_window": 10}, "yesterday"),
    "a-list": b"[1, 2, 3]",
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_model_limits_file_is_ignored_with_a_note(tmp_path: Path, damage: str,
                                                          endpoints: tuple[FakeAnthropic, Poisoner]) -> None:
    honest, _ = endpoints
    cache = tmp_path / "cache"
    cache.mkdir()
    data = DAMAGE[damage].replace(b'"NOW"', str(time.time()).encode())
    (cache / "model-limits.json").write_bytes(data)  # where promptls kept one file for every endpoint
    from promptls.counting import endpoint, models

    os.environ["PROMPTLS_CACHE_DIR"], saved = str(cache), os.environ["PROMPTLS_CACHE_DIR"]
    try:
        models._path(endpoint.endpoint_id(honest.url)).write_bytes(data)
    finally:
        os.environ["PROMPTLS_CACHE_DIR"] = saved
    code, report, err = check(project(tmp_path, "p"), cache, honest.url)
    assert code == 0, err
    assert report["exact"] and report["context_window"] == 1_000_000  # listed again, used
    assert "note: ignored the damaged model-limits cache" in err
    assert honest.model_listings == 1

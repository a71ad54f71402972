"""One cache shared by many processes, a damaged cache file, an unwritable cache folder: the counts
stay right (the fake's exact numbers) and nothing crashes."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakeapi import CANARY_KEY, FakeAnthropic
from tests.lsp.conftest import StartSession, api_env

PROMPTS = {f"p{i}.prompt.yaml": f"messages:\n  - role: user\n    content: Question number {i} about caching.\n"
           for i in range(4)}


@pytest.fixture(autouse=True)
def fast_rate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rate limit is not what is tested here: a user config (a repository may only lower it) raises it."""
    user = tmp_path / "fast-user-config.toml"
    user.write_text("requests_per_minute = 6000\n", encoding="utf-8")
    monkeypatch.setenv("PROMPTLS_USER_CONFIG", str(user))


def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / ".git").mkdir(parents=True)
    for name, text in PROMPTS.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def cli(root: Path, fake: FakeAnthropic, cache: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "ANTHROPIC_API_KEY": CANARY_KEY, "ANTHROPIC_BASE_URL": fake.url,
           "PROMPTLS_CACHE_DIR": str(cache)}
    return subprocess.Popen([sys.executable, "-m", "promptls", "count", "--format", "json", str(root)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=root)


def totals(proc: subprocess.Popen[str]) -> dict[str, tuple[int, bool]]:
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, err[-2000:]
    assert "Traceback" not in err
    return {Path(f["path"]).name: (f["total"], f["exact"]) for f in json.loads(out)["files"]}


class InProcess:
    """`promptls count --format json` in this process (no interpreter start-up), with a chosen cache."""

    def __init__(self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
        self.capsys, self.monkeypatch = capsys, monkeypatch

    def __call__(self, root: Path, cache: Path) -> dict[str, tuple[int, bool]]:
        from promptls.cli import main

        self.monkeypatch.setenv("PROMPTLS_CACHE_DIR", str(cache))
        self.capsys.readouterr()
        code = main(["count", "--format", "json", str(root)])
        out, err = self.capsys.readouterr()
        assert code == 0, err[-2000:]
        return {Path(f["path"]).name: (f["total"], f["exact"]) for f in json.loads(out)["files"]}


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, fake_api: FakeAnthropic) -> InProcess:
    return InProcess(capsys, monkeypatch)


@pytest.fixture
def expected(tmp_path: Path, run: InProcess) -> dict[str, tuple[int, bool]]:
    """Exact totals from a run with a private cache."""
    result = run(workspace(tmp_path / "ref"), tmp_path / "ref-cache")
    assert all(exact for _, exact in result.values())
    return result


@pytest.mark.parametrize("client_name", ["neovim"])
async def test_concurrent_clis_and_a_server_share_one_cache(tmp_path: Path, fake_api: FakeAnthropic,
                                                            lsp_session: StartSession,
                                                            expected: dict[str, tuple[int, bool]]) -> None:
    root = workspace(tmp_path)
    cache = tmp_path / "shared-cache"
    session = await lsp_session(PROMPTS, env={**api_env(fake_api), "PROMPTLS_CACHE_DIR": str(cache)})
    uris = [session.open(name) for name in PROMPTS]
    procs = [cli(root, fake_api, cache) for _ in range(3)]
    for proc in procs:
        assert await asyncio.to_thread(totals, proc) == expected
    for uri in uris:
        status = await session.wait_status(uri, lambda s: s["state"] == "exact", "the server's exact count")
        assert (status["total"], status["exact"]) == expected[Path(uri).name]
    fake_api.reset_counters()
    assert totals(cli(root, fake_api, cache)) == expected
    assert fake_api.requests == 0  # everything came from the shared cache


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty-wal-garbage"])
def test_damaged_cache_file(tmp_path: Path, run: InProcess, expected: dict[str, tuple[int, bool]],
                            damage: str) -> None:
    root = workspace(tmp_path)
    cache = tmp_path / "cache"
    assert run(root, cache) == expected
    db = cache / "counts.sqlite3"
    data = db.read_bytes()
    if damage == "truncated":
        db.write_bytes(data[: len(data) // 3 or 100])
    elif damage == "garbage":
        db.write_bytes(b"\x00garbage" * 512)
    else:
        (cache / "counts.sqlite3-wal").write_bytes(os.urandom(4096))
    assert run(root, cache) == expected
    assert run(root, cache) == expected  # and the recreated cache works


def test_cache_path_that_is_a_file(tmp_path: Path, run: InProcess, expected: dict[str, tuple[int, bool]]) -> None:
    """An unusable cache location (CI runs as root, which ignores permission bits, so a read-only folder is
    simulated by a file where the folder should be): answers stay right, nothing is cached."""
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder", encoding="utf-8")
    assert run(workspace(tmp_path), blocker / "cache") == expected


@pytest.mark.parametrize("client_name", ["neovim"])
async def test_server_with_a_corrupt_cache(lsp_session: StartSession, fake_api: FakeAnthropic,
                                           tmp_path: Path) -> None:
    cache = tmp_path / "srv-cache"
    cache.mkdir()
    (cache / "counts.sqlite3").write_bytes(b"SQLite format 3\x00" + os.urandom(2000))
    session = await lsp_session(PROMPTS, env={**api_env(fake_api), "PROMPTLS_CACHE_DIR": str(cache)})
    uri = session.open("p0.prompt.yaml")
    status = await session.wait_status(uri, lambda s: s["state"] == "exact", "exact count despite the cache")
    assert status["total"] > 0

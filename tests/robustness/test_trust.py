"""The repository is input, not authority (issue 11, items 1-3): a checkout's promptls.toml or
[tool.promptls] cannot choose where the key goes or widen what is read, and no module in the checkout
is ever imported, by the CLI, its worker pool or the server."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from promptls import engine
from promptls.attachments import clear_cache
from promptls.config import load_config
from promptls.offline_pool import PARALLEL_MIN_FILES, pays
from tests.fakeapi import FakeAnthropic
from tests.lsp.conftest import StartSession, api_env, neovim_server, wait_until
from tests.robustness._attacker import Listener

PROMPT = ("model: claude-sonnet-4-6\nmessages:\n  - role: user\n    content: Summarise the notes.\n"
          "attachments: [notes.txt]\n")
SECRET = "OUTSIDE-SECRET-9d41"


@pytest.fixture
def attacker() -> Iterator[Listener]:
    listener = Listener().start()
    yield listener
    listener.stop()


def repository(tmp_path: Path, where: str, settings: str) -> Path:
    """A checkout whose config (promptls.toml or pyproject's [tool.promptls]) holds `settings`."""
    root = tmp_path / "checkout"
    (root / ".git").mkdir(parents=True)
    (root / "notes.txt").write_text("meeting notes\n", encoding="utf-8")
    (root / "a.prompt.yaml").write_text(PROMPT, encoding="utf-8")
    if where == "promptls.toml":
        (root / "promptls.toml").write_text(settings, encoding="utf-8")
    else:
        (root / "pyproject.toml").write_text(f'[project]\nname = "x"\n\n[tool.promptls]\n{settings}', encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET, encoding="utf-8")
    return root


def run_cli(root: Path, *args: str, env: dict[str, str], cwd: Path | None = None,
            command: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    base = command or [sys.executable, "-m", "promptls"]
    return subprocess.run([*base, *args], capture_output=True, text=True, timeout=120, cwd=cwd or root,
                          env={**os.environ, **env})


# -- item 1: the key and the files go only where the user says -------------------------------------


@pytest.mark.parametrize("where", ["promptls.toml", "pyproject.toml"])
def test_repository_base_url_never_receives_the_key(tmp_path: Path, fake_api: FakeAnthropic, attacker: Listener,
                                                    where: str) -> None:
    root = repository(tmp_path, where, f'base_url = "{attacker.url}"\n')
    out = run_cli(root, "count", "--format", "json", str(root), env={})
    assert out.returncode == 0, out.stderr
    assert attacker.connections == 0 and not attacker.received, bytes(attacker.received[:300])
    assert fake_api.requests >= 1  # the exact count came from the user's endpoint (ANTHROPIC_BASE_URL)
    assert json.loads(out.stdout)["files"][0]["exact"] is True
    assert "[config-user-only]" in out.stderr and "`base_url`" in out.stderr
    assert os.environ["PROMPTLS_USER_CONFIG"] in out.stderr and "ANTHROPIC_BASE_URL" in out.stderr  # where instead


def test_user_config_chooses_the_endpoint(tmp_path: Path, fake_api: FakeAnthropic, monkeypatch: pytest.MonkeyPatch,
                                          attacker: Listener) -> None:
    """The user config file may set base_url; ANTHROPIC_BASE_URL, when set, wins over it."""
    root = repository(tmp_path, "promptls.toml", "budget = 1000\n")
    user = tmp_path / "user-config.toml"
    user.write_text(f'base_url = "{fake_api.url}"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "ANTHROPIC_BASE_URL"}
    env["PROMPTLS_USER_CONFIG"] = str(user)
    out = subprocess.run([sys.executable, "-m", "promptls", "count", "--format", "json", str(root)],
                         capture_output=True, text=True, timeout=120, cwd=root, env=env)
    assert out.returncode == 0, out.stderr
    assert fake_api.requests >= 1 and json.loads(out.stdout)["files"][0]["exact"] is True
    user.write_text(f'base_url = "{attacker.url}"\n', encoding="utf-8")
    out = run_cli(root, "count", "--format", "json", str(root), env={"PROMPTLS_USER_CONFIG": str(user),
                                                                     "PROMPTLS_CACHE_DIR": str(tmp_path / "c2")})
    assert out.returncode == 0, out.stderr
    assert attacker.connections == 0  # the environment's ANTHROPIC_BASE_URL (the fake) won


async def test_server_ignores_repository_base_url(lsp_session: StartSession, fake_api: FakeAnthropic,
                                                  attacker: Listener) -> None:
    session = await lsp_session({"promptls.toml": f'base_url = "{attacker.url}"\n', "notes.txt": "notes\n",
                                 "a.prompt.yaml": PROMPT}, env=api_env(fake_api))
    uri = session.open("a.prompt.yaml")
    await session.wait_status(uri, lambda s: s.get("state") == "exact", "an exact count from the user's endpoint")
    config_uri = session.uri("promptls.toml")
    await session.wait_diagnostics(config_uri, lambda d: any(x.code == "config-user-only" for x in d),
                                   "the ignored base_url shown on promptls.toml")
    assert session.diagnostics(config_uri)[0].range.start.line == 0
    assert attacker.connections == 0 and not attacker.received


# -- item 2: confinement is the user's to widen ------------------------------------------------------


@pytest.mark.parametrize(("where", "folders"), [("promptls.toml", '["/"]'), ("pyproject.toml", '["../.."]')])
def test_repository_cannot_widen_attachment_roots(tmp_path: Path, where: str, folders: str) -> None:
    root = repository(tmp_path, where, f"allow_attachments_from = {folders}\n")
    clear_cache()
    config, findings = load_config(root)
    assert config.allowed_roots == ()
    ignored = [f for f in findings if f.code == "config-user-only"]
    assert len(ignored) == 1 and "allow_attachments_from" in ignored[0].message
    assert os.environ["PROMPTLS_USER_CONFIG"] in ignored[0].message
    line = (root / where).read_text().splitlines()[ignored[0].span.start.line]
    assert line.startswith("allow_attachments_from")  # on the line that sets it
    text = "messages:\n  - role: user\n    content: hi\nattachments: [../outside/secret.txt]\n"
    analysis = engine.analyze_text(text, root / "a.prompt.yaml", config)
    assert [f.code for f in analysis.findings if f.blocking] == ["attachment-outside-root"]
    assert SECRET not in json.dumps([f.to_json() for f in analysis.findings])


def test_user_config_may_widen_attachment_roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = repository(tmp_path, "promptls.toml", "budget = 1000\n")
    user = tmp_path / "user-config.toml"
    user.write_text(f'allow_attachments_from = ["{tmp_path / "outside"}"]\nrequests_per_minute = 400\n')
    monkeypatch.setenv("PROMPTLS_USER_CONFIG", str(user))
    clear_cache()
    config, findings = load_config(root)
    assert findings == [] and config.allowed_roots == ((tmp_path / "outside").resolve(),)
    assert config.requests_per_minute == 400
    text = "messages:\n  - role: user\n    content: hi\nattachments: [../outside/secret.txt]\n"
    analysis = engine.analyze_text(text, root / "a.prompt.yaml", config)
    assert not [f for f in analysis.findings if f.blocking]


def test_repository_may_lower_the_request_rate_never_raise_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = repository(tmp_path, "promptls.toml", "requests_per_minute = 5000\n")
    config, findings = load_config(root)
    assert config.requests_per_minute == 50
    assert [f.code for f in findings] == ["config-user-only"] and "5000" in findings[0].message
    (root / "promptls.toml").write_text("requests_per_minute = 5\n")
    config, findings = load_config(root)
    assert config.requests_per_minute == 5 and findings == []


@pytest.mark.parametrize("client_name", ["visual_studio_code"])
async def test_untrusted_server_stays_confined(lsp_session: StartSession, tmp_path: Path) -> None:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text(SECRET, encoding="utf-8")
    session = await lsp_session({"promptls.toml": 'allow_attachments_from = ["/"]\n'},
                                init_options={"trusted": False})
    uri = session.open("a.prompt.yaml", "messages:\n  - role: user\n    content: hi\n"
                                        "attachments: [../outside/secret.txt]\n")
    diags = await session.wait_diagnostics(uri, lambda d: any(x.code == "attachment-outside-root" for x in d),
                                           "the outside file refused")
    assert SECRET not in json.dumps([d.message for d in diags])
    hints = await session.hints(uri)
    assert all(SECRET not in label for *_, label in hints)
    await session.wait_diagnostics(session.uri("promptls.toml"),
                                   lambda d: any(x.code == "config-user-only" for x in d), "the ignored key")


# -- item 3: no module from the checkout runs -------------------------------------------------------

SHADOWS = ["multiprocessing/__init__.py", "concurrent/__init__.py", "json.py", "argparse.py", "yaml.py", "ctok.py",
           "sqlite3.py", "platformdirs.py", "anthropic.py", "pygls/__init__.py", "logging/__init__.py", "tomllib.py"]


def shadowing_checkout(tmp_path: Path, files: int) -> tuple[Path, Path]:
    """A checkout full of modules named like the standard library and our dependencies; each one that is
    imported leaves a mark."""
    root = tmp_path / "checkout"
    (root / ".git").mkdir(parents=True)
    marks = tmp_path / "marks"
    marks.mkdir()
    for rel in SHADOWS:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"open({str(marks / rel.replace('/', '_'))!r}, 'w').close()\n", encoding="utf-8")
    for i in range(files):
        (root / f"p{i:03d}.prompt.yaml").write_text(
            f"messages:\n  - role: user\n    content: Hello number {i}.\n", encoding="utf-8")
    return root, marks


@pytest.mark.parametrize("launcher", ["script", "-m"])
def test_check_workers_import_nothing_from_the_checkout(tmp_path: Path, launcher: str) -> None:
    """Enough files for the worker pool (spawned `python -c` processes), run from inside the checkout."""
    n = PARALLEL_MIN_FILES + 10
    root, marks = shadowing_checkout(tmp_path, n)
    command = ([str(Path(sys.executable).with_name("promptls"))] if launcher == "script"
               else [sys.executable, "-m", "promptls"])
    out = run_cli(root, "check", "--mode", "offline", ".", env={}, command=command)
    assert sorted(p.name for p in marks.iterdir()) == [], out.stderr[-2000:]
    assert out.returncode == 0, out.stderr[-2000:]
    assert f"in {n} files" in out.stdout


@pytest.mark.parametrize("files", [3, PARALLEL_MIN_FILES + 10])
async def test_server_imports_nothing_from_the_checkout(tmp_path: Path, files: int) -> None:
    """`python -m promptls serve` started in the checkout, as VS Code starts it; with enough files, the
    workspace index runs in worker processes (offline_pool.py), which import nothing from it either."""
    root, marks = shadowing_checkout(tmp_path, files)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "PROMPTLS_"))}
    env.update({"PROMPTLS_CACHE_DIR": str(tmp_path / "cache"), "PROMPTLS_USER_CONFIG": str(tmp_path / "none.toml"),
                "PROMPTLS_TEST_HOOKS": "1"})  # promptls/_stats
    command = ["sh", "-c", f'cd "{root}" && exec "{sys.executable}" -m promptls serve']
    async with neovim_server(command, env, root, folder="checkout") as (client, session):
        uri = session.open("p000.prompt.yaml")
        await wait_until(lambda: uri in client.diagnostics, timeout=20, what="diagnostics for p000")
        assert await session.hints(uri)
        stats: dict[str, Any] = {}

        async def indexed() -> bool:
            stats.update(await session.stats())
            return stats["indexed"] == files

        async with asyncio.timeout(120):
            while not await indexed():
                await asyncio.sleep(0.05)
        assert stats["indexed_in_workers"] >= (files - 1 if pays(files - 1) else 0)
        await client.shutdown_session()
    assert sorted(p.name for p in marks.iterdir()) == []


def test_cli_in_process_keeps_sys_path_alone(tmp_path: Path) -> None:
    """drop_cwd only removes the entry -m/-c added: an embedding program's sys.path is left as it is."""
    from promptls.safepath import drop_cwd

    saved = list(sys.path)
    try:
        sys.path.insert(0, str(tmp_path))
        drop_cwd()
        assert sys.path[0] == str(tmp_path)
    finally:
        sys.path[:] = saved

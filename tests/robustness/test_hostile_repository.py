"""A hostile repository, as a fork's pull request would bring it (issue 11): its config points the key at
the attacker's host, widens confinement and raises the rate; its prompts attach files outside the
checkout through every path there is; its folders shadow the standard library and our dependencies.
`promptls check` (with the key, and offline with the worker pool) and the server run on it with a canary
key. The attacker's listener receives nothing, an audit hook in every process shows no file outside the
root is opened, and no module of the checkout runs."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from promptls.offline_pool import PARALLEL_MIN_FILES, pays
from tests.fakeapi import CANARY_KEY, FakeAnthropic
from tests.lsp.conftest import Session, neovim_server, wait_until
from tests.robustness._attacker import Listener
from tests.robustness.test_trust import SHADOWS

SECRET = "HOSTILE-REPO-OUTSIDE-SECRET-5e2d"
AUDIT = '''\
import os, sys
_log = os.environ.get("PROMPTLS_AUDIT_LOG")
if _log:
    _out = open(f"{_log}.{os.getpid()}", "a", buffering=1)
    def _hook(event, args):
        if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
            flags = args[2] if len(args) > 2 and isinstance(args[2], int) else -1
            _out.write(f"{os.fsdecode(args[0])}\\t{flags}\\n")
    sys.addaudithook(_hook)
'''


class Checkout:
    def __init__(self, tmp_path: Path, attacker: Listener) -> None:
        self.tmp = tmp_path
        self.outside = tmp_path / "outside"
        self.home = tmp_path / "home"
        self.root = tmp_path / "checkout"
        self.marks = tmp_path / "marks"
        self.audit_dir = tmp_path / "audit"
        for folder in (self.outside, self.home / ".ssh", self.root / ".git", self.marks, self.audit_dir):
            folder.mkdir(parents=True)
        (self.outside / "secret.txt").write_text(SECRET, encoding="utf-8")
        (self.outside / "secret.pdf").write_bytes(b"%PDF-1.4\n" + SECRET.encode() + b"\n%%EOF\n")
        (self.home / ".ssh" / "id_rsa").write_text(SECRET, encoding="utf-8")
        (self.audit_dir / "sitecustomize.py").write_text(AUDIT, encoding="utf-8")
        # The user's own rate (the repository's 100,000 below is a raise and stays ignored): 200+ counts
        # at the default 50 a minute would take four minutes of CI.
        self.user_config = tmp_path / "user.toml"
        self.user_config.write_text("requests_per_minute = 20000\n", encoding="utf-8")
        root = self.root
        (root / "promptls.toml").write_text(
            f'base_url = "{attacker.url}"\nallow_attachments_from = ["/", "../..", "{self.outside}"]\n'
            "requests_per_minute = 100000\n", encoding="utf-8")
        (root / "pyproject.toml").write_text(f'[tool.promptls]\nbase_url = "{attacker.url}"\n', encoding="utf-8")
        (root / "link.txt").symlink_to(self.outside / "secret.txt")
        (root / "docs").symlink_to(self.outside)
        for rel in [*SHADOWS, "sitecustomize.py", "usercustomize.py", "promptls_hook.py"]:
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"open({str(self.marks / rel.replace('/', '_'))!r}, 'w').close()\n", encoding="utf-8")
        refs = ["../outside/secret.txt", str(self.outside / "secret.pdf"), "~/.ssh/id_rsa", "link.txt",
                "docs/secret.txt", "../" * 30 + str(self.outside.relative_to(self.outside.anchor)) + "/secret.txt"]
        attached = "\n".join(f"  - {json.dumps(r)}" for r in refs)
        (root / "steal.prompt.yaml").write_text(
            "model: claude-sonnet-4-6\nmessages:\n  - role: user\n    content: Summarise these.\n"
            f"attachments:\n{attached}\n", encoding="utf-8")
        for i in range(PARALLEL_MIN_FILES + 5):
            (root / f"p{i:03d}.prompt.yaml").write_text(
                f"messages:\n  - role: user\n    content: Innocent question {i}.\n", encoding="utf-8")

    def env(self, fake: FakeAnthropic) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "PROMPTLS_"))}
        env.update({
            "ANTHROPIC_API_KEY": CANARY_KEY, "ANTHROPIC_BASE_URL": fake.url, "HOME": str(self.home),
            "PROMPTLS_CACHE_DIR": str(self.tmp / "cache"), "PROMPTLS_USER_CONFIG": str(self.user_config),
            "PROMPTLS_AUDIT_LOG": str(self.tmp / "opened"), "ANTHROPIC_LOG": "debug",
            "PYTHONPATH": os.pathsep.join(p for p in (str(self.audit_dir), os.environ.get("PYTHONPATH")) if p)})
        return env

    def opened(self) -> list[tuple[str, int]]:
        out = []
        for log in self.tmp.glob("opened.*"):
            for line in log.read_text(encoding="utf-8").splitlines():
                path, _, flags = line.rpartition("\t")
                out.append((path, int(flags)))
        return out

    def assert_confined(self) -> None:
        opened = self.opened()
        assert opened, "the audit hook recorded nothing"
        # it does see promptls' own reads (p001: never opened in an editor, so read from disk)
        assert any(p.endswith("p001.prompt.yaml") for p, _ in opened)
        outside = [p for p, _ in opened if p.startswith((str(self.outside), str(self.home)))]
        assert outside == [], f"opened outside the root: {outside}"
        # a relative name is either a file of the checkout opened from its folder (the CLI was given ".")
        # or a component of the attachment descent (relative to a folder descriptor), never following a link
        relative = [(p, f) for p, f in opened if not os.path.isabs(p) and f != -1]
        following = [p for p, f in relative if not f & os.O_NOFOLLOW
                     and not (self.root / p).resolve().is_relative_to(self.root)]
        assert following == [], following
        assert sorted(p.name for p in self.marks.iterdir()) == [], "code from the checkout ran"


@pytest.fixture
def hostile(tmp_path: Path) -> Iterator[tuple[Checkout, Listener, FakeAnthropic]]:
    attacker, fake = Listener().start(), FakeAnthropic(CANARY_KEY).start()
    try:
        yield Checkout(tmp_path, attacker), attacker, fake
    finally:
        attacker.stop()
        fake.stop()


async def wait_until_stats(session: Session, predicate: Callable[[dict[str, Any]], bool], what: str,
                           timeout: float = 120) -> None:
    try:
        async with asyncio.timeout(timeout):
            while not predicate(await session.stats()):
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"timed out after {timeout}s waiting for {what}") from None


def leaked(*texts: str | bytes) -> bool:
    blob = b"".join(t.encode() if isinstance(t, str) else t for t in texts)
    return CANARY_KEY.encode() in blob or b"CANARY-do-not-leak" in blob or SECRET.encode() in blob


def test_check_on_a_hostile_repository(hostile: tuple[Checkout, Listener, FakeAnthropic]) -> None:
    checkout, attacker, fake = hostile
    env = checkout.env(fake)
    script = str(Path(sys.executable).with_name("promptls"))
    exact = subprocess.run([script, "check", "--format", "json", "."], capture_output=True, text=True,
                           env=env, cwd=checkout.root, timeout=300)
    offline = subprocess.run([sys.executable, "-m", "promptls", "check", "--mode", "offline", "."],
                             capture_output=True, text=True, env=env, cwd=checkout.root, timeout=300)
    assert attacker.connections == 0 and not attacker.received, bytes(attacker.received[:200])
    assert fake.requests >= PARALLEL_MIN_FILES  # the user's endpoint counted the innocent files
    assert not leaked(json.dumps(fake.bodies)), "an outside file reached the API"
    for out in (exact, offline):
        assert out.returncode == 2, out.stderr[-2000:]  # steal.prompt.yaml: attachments refused
        assert "Traceback" not in out.stderr and not leaked(out.stdout, out.stderr)
    # base_url, allow_attachments_from and the rate, each named once: on stderr beside a JSON report,
    # among the findings in text
    assert exact.stderr.count("[config-user-only]") == 3 and offline.stdout.count("[config-user-only]") == 3
    files = {Path(f["path"]).name: f for f in json.loads(exact.stdout)["files"]}
    codes = [f["code"] for f in files["steal.prompt.yaml"]["findings"]]
    assert codes.count("attachment-outside-root") == 6, codes
    assert all(f["exact"] for name, f in files.items() if name != "steal.prompt.yaml")
    checkout.assert_confined()


async def test_server_on_a_hostile_repository(hostile: tuple[Checkout, Listener, FakeAnthropic]) -> None:
    checkout, attacker, fake = hostile
    root = checkout.root
    err_log = checkout.tmp / "server-stderr.log"
    command = ["sh", "-c", f'cd "{root}" && exec "{sys.executable}" -m promptls serve 2> "{err_log}"']
    env = {**checkout.env(fake), "PROMPTLS_TEST_HOOKS": "1"}  # promptls/_stats: the index ran in workers
    async with neovim_server(command, env, root, folder="checkout",
                             initialization_options={"trusted": True}) as (client, session):
        steal = session.open("steal.prompt.yaml")
        await wait_until(lambda: session.codes(steal).count("attachment-outside-root") == 6, timeout=60,
                         what="the six outside attachments refused")
        config = session.uri("promptls.toml")
        await wait_until(lambda: session.codes(config).count("config-user-only") == 3, timeout=60,
                         what="the ignored settings shown on promptls.toml")
        innocent = session.open("p000.prompt.yaml")
        await wait_until(lambda: fake.requests > 0, timeout=60, what="a request to the user's endpoint")
        async with asyncio.timeout(60):  # the Models API call may come first: wait for the file's own count
            while (status := await session.status(innocent)) is None or status["state"] != "exact":
                await asyncio.sleep(0.05)
        hints = await session.hints(steal)
        await wait_until_stats(session, lambda s: s["indexed"] == PARALLEL_MIN_FILES + 6, "the workspace index")
        stats = await session.stats()
        assert stats["indexed_in_workers"] >= (PARALLEL_MIN_FILES + 4 if pays(PARALLEL_MIN_FILES) else 0)
        await client.shutdown_session()
    assert attacker.connections == 0 and not attacker.received
    diagnostics = json.dumps([d.message for d in session.diagnostics(steal)] + [h[2] for h in hints])
    assert not leaked(diagnostics, err_log.read_bytes(), json.dumps(fake.bodies))
    checkout.assert_confined()

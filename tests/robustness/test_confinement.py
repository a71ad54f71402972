"""A cloned repository must not make promptls read, or upload, files outside the project: every way
of pointing outside (`..`, absolute paths, `~`, symlinks to files and folders, lookalike encodings)
is refused before the file is opened, and devices and named pipes never block."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from promptls import engine
from promptls.attachments import clear_cache
from promptls.config import load_config
from tests.fakeapi import FakeAnthropic
from tests.lsp.conftest import StartSession, wait_until

CANARY = "OUTSIDE-SECRET-CANARY-51c7e0"
OPENED: list[str] = []


def _audit(event: str, args: tuple) -> None:
    if event == "open" and isinstance(args[0], str | bytes | os.PathLike):
        OPENED.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """ws/ (the root) with links pointing out, and outside/ holding the secrets."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(f"{CANARY}\n", encoding="utf-8")
    (outside / "id_rsa").write_text(f"-----BEGIN {CANARY}-----\n", encoding="utf-8")
    (outside / "secret.pdf").write_bytes(b"%PDF-1.4\n" + CANARY.encode() + b"\n%%EOF\n")
    root = tmp_path / "ws"
    (root / ".git").mkdir(parents=True)
    (root / "notes.txt").write_text("inside the project\n", encoding="utf-8")
    (root / "link.txt").symlink_to(outside / "secret.txt")
    (root / "chain1.txt").symlink_to(root / "chain2.txt")
    (root / "chain2.txt").symlink_to(outside / "secret.txt")
    (root / "docs").symlink_to(outside)
    (root / "loop").symlink_to(root / "loop")
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text(CANARY, encoding="utf-8")
    return root


ESCAPES = ["../outside/secret.txt", "./../outside/secret.txt", "sub/../../outside/id_rsa", "{outside}/secret.txt",
           "{outside}//secret.pdf", "link.txt", "chain1.txt", "docs/secret.txt", "docs/../docs/id_rsa",
           "~/.ssh/id_rsa"]
LOOKALIKES = ["%2e%2e/outside/secret.txt", "..%2foutside%2fsecret.txt", "..\\outside\\secret.txt",
              "\u2024\u2024/outside/secret.txt", "\uff0e\uff0e/outside/secret.txt", "..\u200b/outside/secret.txt",
              "file://{outside}/secret.txt", "loop"]


def prompt(refs: list[str], outside: Path) -> str:
    items = "\n".join(f"  - {json.dumps(r.format(outside=outside))}" for r in refs)
    blocks = "\n".join(f"      - document: {json.dumps(r.format(outside=outside))}" for r in refs[:3])
    return (f"model: claude-sonnet-4-6\nmessages:\n  - role: user\n    content:\n      - text: Read these.\n"
            f"{blocks}\nattachments:\n  - notes.txt\n{items}\n")


@pytest.fixture
def audited() -> Iterator[list[str]]:
    clear_cache()
    OPENED.clear()
    yield OPENED
    OPENED.clear()


@pytest.mark.parametrize(("refs", "codes"), [(ESCAPES, {"attachment-outside-root"}),
                                             (LOOKALIKES, {"attachment-missing", "attachment-unreadable"})],
                         ids=["escapes", "lookalikes"])
def test_refused_without_opening_the_file(project: Path, audited: list[str], monkeypatch: pytest.MonkeyPatch,
                                          refs: list[str], codes: set[str]) -> None:
    outside = project.parent / "outside"
    monkeypatch.setenv("HOME", str(project.parent / "home"))
    config, _ = load_config(project)
    for ref in refs:
        for where in ("attachments: [{ref}]\n", "    content:\n      - document: {ref}\n"):
            text = "messages:\n  - role: user\n" + ("    content: hi\n" + where if where.startswith("att") else where)
            text = text.format(ref=json.dumps(ref.format(outside=outside)))
            report = engine.analyze_text(text, project / "a.prompt.yaml", config)
            found = [f for f in report.findings if f.code in codes]
            assert found, f"{ref!r} in {where.strip()!r}: {[f.code for f in report.findings]}"
            assert found[0].span.start.line == text.count("\n") - 1  # on the line that names it
            assert CANARY not in json.dumps([f.to_json() for f in report.findings])
    escaped = [p for p in audited if str(outside) in p or ".ssh" in p]
    assert escaped == [], f"opened outside the root: {escaped}"
    report = engine.analyze_text("messages: [{role: user, content: hi}]\nattachments: [notes.txt]\n",
                                 project / "a.prompt.yaml", config)
    assert report.request is not None and any(p.endswith("notes.txt") for p in audited)  # the hook works


def test_nothing_from_outside_reaches_the_api(project: Path, fake_api: FakeAnthropic) -> None:
    """With a key set, the CLI sends the inside attachment and not one byte of the outside files."""
    outside = project.parent / "outside"
    (project / "a.prompt.yaml").write_text(prompt(ESCAPES + LOOKALIKES, outside), encoding="utf-8")
    (project / "b.prompt.yaml").write_text(
        "messages:\n  - role: user\n    content: Hello there.\nattachments: [notes.txt]\n", encoding="utf-8")
    env = {**os.environ, "HOME": str(project.parent / "home")}
    out = subprocess.run([sys.executable, "-m", "promptls", "check", "--format", "json", str(project)],
                         capture_output=True, text=True, env=env, timeout=60, cwd=project)
    assert out.returncode == 2, out.stderr  # a.prompt.yaml is invalid; b is counted
    assert fake_api.requests >= 1
    sent = json.dumps(fake_api.bodies)
    assert "inside the project" in sent
    for secret in (outside / "secret.txt", outside / "id_rsa", outside / "secret.pdf"):
        data = secret.read_bytes()
        assert base64.b64encode(data).decode() not in sent
    assert CANARY not in sent and CANARY not in out.stdout and CANARY not in out.stderr


def test_devices_and_named_pipes_do_not_block(project: Path) -> None:
    """Allowed roots do not make /dev/zero or a FIFO readable: they are refused at stat time."""
    os.mkfifo(project / "pipe.txt")
    (project / "zero.png").symlink_to("/dev/zero")
    user = project.parent / "user-config.toml"  # only the user may widen the roots
    user.write_text('allow_attachments_from = ["/dev"]\n', encoding="utf-8")
    (project / "a.prompt.yaml").write_text(
        "messages:\n  - role: user\n    content: hi\nattachments: [pipe.txt, zero.png, /dev/zero, /dev/urandom, "
        "/dev/stdin, /dev/tty]\n", encoding="utf-8")
    start = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "promptls", "check", "--mode", "offline", "--format", "json",
                          str(project)], capture_output=True, text=True, timeout=30, cwd=project,
                         stdin=subprocess.PIPE, env={**os.environ, "PROMPTLS_USER_CONFIG": str(user)})
    assert time.monotonic() - start < 20
    findings = json.loads(out.stdout)["files"][0]["findings"]
    refused = [f for f in findings if f["code"] in ("attachment-unreadable", "attachment-outside-root",
                                                    "attachment-missing")]
    assert len(refused) == 6, findings
    assert any("named pipe" in f["message"] for f in refused)
    assert sum("device" in f["message"] for f in refused) >= 3


@pytest.mark.parametrize("client_name", ["neovim"])
async def test_server_does_not_hang_on_a_fifo(lsp_session: StartSession, tmp_path: Path) -> None:
    (tmp_path / "user-config.toml").write_text('allow_attachments_from = ["/dev"]\n', encoding="utf-8")
    session = await lsp_session()  # the harness points PROMPTLS_USER_CONFIG at tmp_path/user-config.toml
    os.mkfifo(session.root / "pipe.txt")
    uri = session.open("a.prompt.yaml", "messages:\n  - role: user\n    content: hi\n"
                                        "attachments: [pipe.txt, /dev/zero]\n")
    await wait_until(lambda: uri in session.client.diagnostics and len(session.codes(uri)) >= 2, timeout=15,
                     what="findings for the FIFO and /dev/zero")
    assert session.codes(uri).count("attachment-unreadable") == 2
    status = await session.status(uri)
    assert status is not None

"""The action's comment script (action/pr_comment.py) against a fake GitHub REST API on 127.0.0.1:
one comment, created once, then updated in place; never someone else's; forks' read-only tokens."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "action" / "pr_comment.py"
TOKEN = "ghs_test-token-0123456789"
REPO = "acme/prompts"
BOT = {"login": "github-actions[bot]", "type": "Bot"}


class FakeGitHub:
    """Issue comments of one repository: list (paginated), create, update, delete; checks the token."""

    def __init__(self, read_only: bool = False) -> None:
        self.comments: dict[int, dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []
        self.auth: set[str] = set()
        self.read_only = read_only
        self._next = 1000
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def add(self, pr: int, body: str, user: dict[str, str]) -> int:
        self._next += 1
        self.comments[self._next] = {"id": self._next, "pr": pr, "body": body, "user": user}
        return self._next

    def on(self, pr: int) -> list[dict[str, Any]]:
        return [c for c in self.comments.values() if c["pr"] == pr]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _reply(self, status: int, payload: Any = None) -> None:
                data = json.dumps(payload).encode() if payload is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                url = urlsplit(self.path)
                fake.calls.append((method, url.path))
                fake.auth.add(self.headers.get("Authorization", ""))
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    return self._reply(401, {"message": "Bad credentials"})
                parts = url.path.strip("/").split("/")
                length = int(self.headers.get("Content-Length") or 0)
                body: dict[str, Any] = json.loads(self.rfile.read(length)) if length else {}
                if parts[:3] != ["repos", *REPO.split("/")]:
                    return self._reply(404, {"message": "Not Found"})
                if method != "GET" and fake.read_only:
                    return self._reply(403, {"message": "Resource not accessible by integration"})
                if parts[3:4] == ["issues"] and parts[5:] == ["comments"]:
                    pr = int(parts[4])
                    if method == "GET":
                        q = parse_qs(url.query)
                        per, page = int(q["per_page"][0]), int(q["page"][0])
                        items = sorted(fake.on(pr), key=lambda c: c["id"])[(page - 1) * per: page * per]
                        return self._reply(200, [{k: v for k, v in c.items() if k != "pr"} for c in items])
                    cid = fake.add(pr, body["body"], BOT)
                    return self._reply(201, fake.comments[cid])
                if parts[3:5] == ["issues", "comments"]:
                    cid = int(parts[5])
                    if cid not in fake.comments:
                        return self._reply(404, {"message": "Not Found"})
                    if method == "PATCH":
                        fake.comments[cid]["body"] = body["body"]
                        return self._reply(200, fake.comments[cid])
                    if method == "DELETE":
                        del fake.comments[cid]
                        return self._reply(204)
                return self._reply(404, {"message": "Not Found"})

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def do_PATCH(self) -> None:
                self._handle("PATCH")

            def do_DELETE(self) -> None:
                self._handle("DELETE")

        return Handler


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    fake.thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def comment(fake: FakeGitHub, tmp_path: Path, body: str, *extra: str, pr: int = 7,
            token: str = TOKEN) -> subprocess.CompletedProcess:
    body_file = tmp_path / "body.md"
    body_file.write_text(body, encoding="utf-8")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": pr}}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env.update(GITHUB_TOKEN=token, GITHUB_REPOSITORY=REPO, GITHUB_API_URL=fake.url, GITHUB_EVENT_PATH=str(event))
    return subprocess.run([sys.executable, str(SCRIPT), "--body-file", str(body_file), *extra], env=env,
                          capture_output=True, text=True, timeout=60)


REPORT_1 = "<!-- promptls-diff -->\n## promptls · what this change costs\n\n**+120 input tokens**\n"
REPORT_2 = "<!-- promptls-diff -->\n## promptls · what this change costs\n\n**+340 input tokens**\n"


def test_creates_one_comment_then_updates_it_in_place(github: FakeGitHub, tmp_path: Path) -> None:
    other = github.add(7, "LGTM", {"login": "alice", "type": "User"})
    first = comment(github, tmp_path, REPORT_1)
    assert first.returncode == 0, first.stderr
    assert "created" in first.stdout
    ours = [c for c in github.on(7) if c["id"] != other]
    assert len(ours) == 1 and ours[0]["body"] == REPORT_1
    (cid,) = [c["id"] for c in ours]

    github.calls.clear()
    second = comment(github, tmp_path, REPORT_2)
    assert second.returncode == 0, second.stderr
    assert "updated" in second.stdout
    assert [c["id"] for c in github.on(7)] == [other, cid]  # no second comment
    assert github.comments[cid]["body"] == REPORT_2 and github.comments[other]["body"] == "LGTM"
    assert ("PATCH", f"/repos/{REPO}/issues/comments/{cid}") in github.calls
    assert not any(m == "POST" for m, _ in github.calls)

    third = comment(github, tmp_path, REPORT_2)
    assert "unchanged" in third.stdout and len(github.on(7)) == 2
    assert TOKEN not in first.stdout + first.stderr + second.stdout + second.stderr
    assert github.auth == {f"Bearer {TOKEN}"}


def test_finds_its_comment_past_the_first_page_and_removes_duplicates(github: FakeGitHub, tmp_path: Path) -> None:
    for i in range(150):
        github.add(7, f"chatter {i}", {"login": "bob", "type": "User"})
    keep = github.add(7, REPORT_1, BOT)
    dup = github.add(7, REPORT_1, BOT)  # a race between two runs left a second one
    out = comment(github, tmp_path, REPORT_2)
    assert out.returncode == 0, out.stderr
    assert github.comments[keep]["body"] == REPORT_2 and dup not in github.comments
    assert len(github.on(7)) == 151


def test_never_takes_over_a_comment_someone_else_wrote_with_the_marker(github: FakeGitHub, tmp_path: Path) -> None:
    forged = github.add(7, REPORT_1 + "\nclick here", {"login": "mallory", "type": "User"})
    out = comment(github, tmp_path, REPORT_2)
    assert out.returncode == 0 and "created" in out.stdout
    assert github.comments[forged]["body"] == REPORT_1 + "\nclick here"
    assert sum(c["body"] == REPORT_2 for c in github.on(7)) == 1


def test_a_report_without_changes_posts_nothing_new_but_keeps_an_old_comment_current(
        github: FakeGitHub, tmp_path: Path) -> None:
    quiet = "<!-- promptls-diff -->\n<!-- promptls-diff:no-change -->\nNo prompt file changed.\n"
    out = comment(github, tmp_path, quiet)
    assert out.returncode == 0 and "skipped" in out.stdout and github.on(7) == []
    assert comment(github, tmp_path, quiet, "--when", "always").returncode == 0
    assert len(github.on(7)) == 1
    cid = github.add(8, REPORT_1, BOT)
    assert comment(github, tmp_path, quiet, pr=8).returncode == 0
    assert github.comments[cid]["body"] == quiet  # the earlier numbers would be stale


def test_a_read_only_token_from_a_fork_warns_and_succeeds(tmp_path: Path) -> None:
    fake = FakeGitHub(read_only=True)
    fake.thread.start()
    try:
        out = comment(fake, tmp_path, REPORT_1)
    finally:
        fake.server.shutdown()
        fake.server.server_close()
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("::warning::") and "job summary" in out.stdout and TOKEN not in out.stdout


def test_the_token_only_travels_over_https_or_to_loopback(tmp_path: Path) -> None:
    body = tmp_path / "b.md"
    body.write_text(REPORT_1)
    event = tmp_path / "e.json"
    event.write_text(json.dumps({"pull_request": {"number": 1}}))
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}, "GITHUB_TOKEN": TOKEN,
           "GITHUB_REPOSITORY": REPO, "GITHUB_API_URL": "http://api.example.invalid", "GITHUB_EVENT_PATH": str(event)}
    out = subprocess.run([sys.executable, str(SCRIPT), "--body-file", str(body)], env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode != 0 and "https only" in out.stderr and TOKEN not in out.stderr


def test_the_diff_report_goes_into_the_comment(github: FakeGitHub, tmp_path: Path) -> None:
    """End to end: `promptls diff --format markdown` as the action runs it, then the script."""
    from tests.diffrepo import make_repo

    base, _ = make_repo(tmp_path / "repo")
    md = tmp_path / "promptls-diff.md"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "GITHUB_"))}
    out = subprocess.run([sys.executable, "-m", "promptls", "diff", "--base", base, "--format", "markdown", "-o",
                          str(md)], cwd=tmp_path / "repo", env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert comment(github, tmp_path, md.read_text()).returncode == 0
    (posted,) = github.on(7)
    assert posted["body"] == md.read_text()
    assert "| `prompts/switch.prompt.yaml`<br><sub>modified · claude-haiku-4-5" in posted["body"]
    assert "→ claude-opus-4-6, re-priced</sub>" in posted["body"]


def test_action_is_a_composite_that_keeps_the_key_from_forks() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    steps = {s.get("name") or s.get("uses"): s for s in action["runs"]["steps"]}
    for name in ("promptls check", "promptls diff"):
        key = steps[name]["env"]["ANTHROPIC_API_KEY"]
        assert "github.event.pull_request.head.repo.full_name == github.repository" in key
    for step in action["runs"]["steps"]:  # inputs reach scripts through env, never spliced into them
        assert "${{ inputs." not in step.get("run", "")
    assert "pr_comment.py" in steps["Pull-request comment"]["run"]

"""Create or update the one promptls comment on a pull request (GitHub REST API, Python stdlib only).

The comment is found by a hidden marker at the start of its body *and* by its author (the workflow
token's bot), so a comment someone else wrote with the marker is never overwritten. It is updated in
place; duplicates left by a race between two runs are deleted. The token is sent only over https
(or to a loopback test server) and never printed.

Usage: pr_comment.py --body-file FILE [--pr N] [--when always|changed]
Environment: GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL, GITHUB_EVENT_PATH (for the PR number).
Exit 0 when the comment is in place or nothing needed posting; a token without write access (pull
requests from forks) gives a warning and exit 0 (the job summary still holds the report); exit 1 on
other API errors, 2 on usage errors.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

MARKER = "<!-- promptls-diff -->"
NO_CHANGE = "<!-- promptls-diff:no-change -->"
COMMENT_LIMIT = 65_536
DEFAULT_AUTHORS = ("github-actions[bot]",)
PER_PAGE = 100
MAX_PAGES = 50
TIMEOUT_S = 30


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


class GitHub:
    def __init__(self, api_url: str, token: str, repo: str) -> None:
        parsed = urllib.parse.urlsplit(api_url)
        if parsed.scheme != "https" and not _loopback(parsed.hostname or ""):
            raise SystemExit(f"pr_comment: refusing to send the token to {parsed.scheme}://{parsed.hostname} "
                             "(https only)")
        self.base = api_url.rstrip("/")
        self.token, self.repo = token, repo

    def call(self, method: str, path: str, payload: Any = None) -> Any:
        data = json.dumps(payload).encode() if payload is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "promptls-action",
            **({"Content-Type": "application/json"} if data is not None else {}),
        })
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:
                body = resp.read()
        except urllib.error.HTTPError as exc:
            raise ApiError(exc.code, _message(exc.read())) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise ApiError(0, f"cannot reach {self.base}: {getattr(exc, 'reason', exc)}") from None
        return json.loads(body) if body.strip() else None

    def comments(self, pr: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for page in range(1, MAX_PAGES + 1):
            batch = self.call("GET", f"/repos/{self.repo}/issues/{pr}/comments?per_page={PER_PAGE}&page={page}")
            if not isinstance(batch, list):
                break
            out.extend(c for c in batch if isinstance(c, dict))
            if len(batch) < PER_PAGE:
                break
        return out


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _message(raw: bytes) -> str:
    try:
        return str(json.loads(raw).get("message", "")) or raw[:200].decode("utf-8", "replace")
    except (ValueError, AttributeError):
        return raw[:200].decode("utf-8", "replace")


def pr_number(explicit: int | None) -> int | None:
    if explicit:
        return explicit
    path = os.environ.get("GITHUB_EVENT_PATH", "")
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            event = json.load(fh)
    except (OSError, ValueError):
        return None
    number = (event.get("pull_request") or {}).get("number") or event.get("number")
    return int(number) if isinstance(number, int) else None


def ours(comment: dict[str, Any], authors: tuple[str, ...]) -> bool:
    body = comment.get("body") or ""
    login = (comment.get("user") or {}).get("login", "")
    return body.lstrip().startswith(MARKER) and login in authors


def upsert(gh: GitHub, pr: int, body: str, *, when: str, authors: tuple[str, ...]) -> str:
    """Returns what was done: created, updated, unchanged or skipped."""
    if len(body) > COMMENT_LIMIT:
        body = body[: COMMENT_LIMIT - 40] + "\n\n_(truncated)_\n"
    mine = sorted((c for c in gh.comments(pr) if ours(c, authors)), key=lambda c: c.get("id", 0))
    if not mine:
        if when == "changed" and NO_CHANGE in body:
            return "skipped"
        gh.call("POST", f"/repos/{gh.repo}/issues/{pr}/comments", {"body": body})
        return "created"
    first, *duplicates = mine
    for extra in duplicates:
        gh.call("DELETE", f"/repos/{gh.repo}/issues/comments/{extra['id']}")
    if first.get("body") == body:
        return "unchanged"
    gh.call("PATCH", f"/repos/{gh.repo}/issues/comments/{first['id']}", {"body": body})
    return "updated"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="pr_comment.py", description="create or update the promptls PR comment")
    p.add_argument("--body-file", required=True)
    p.add_argument("--pr", type=int, help="pull request number (default: from GITHUB_EVENT_PATH)")
    p.add_argument("--when", choices=("always", "changed"), default="changed",
                   help="changed: post a new comment only when a prompt's count changed (an existing one is "
                   "always kept up to date)")
    p.add_argument("--author", action="append", help="login the comment is posted as (default github-actions[bot])")
    args = p.parse_args(argv)
    token = os.environ.get("GITHUB_TOKEN", "").strip()
    repo = os.environ.get("GITHUB_REPOSITORY", "").strip()
    if not token or not repo:
        print("pr_comment: GITHUB_TOKEN and GITHUB_REPOSITORY must be set", file=sys.stderr)
        return 2
    pr = pr_number(args.pr)
    if pr is None:
        print("pr_comment: not a pull request (no number in GITHUB_EVENT_PATH); nothing to do")
        return 0
    try:
        with open(args.body_file, encoding="utf-8") as fh:
            body = fh.read()
    except OSError as exc:
        print(f"pr_comment: cannot read {args.body_file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    if not body.lstrip().startswith(MARKER):
        body = f"{MARKER}\n{body}"
    gh = GitHub(os.environ.get("GITHUB_API_URL", "https://api.github.com"), token, repo)
    try:
        done = upsert(gh, pr, body, when=args.when, authors=tuple(args.author or DEFAULT_AUTHORS))
    except ApiError as exc:
        if exc.status in (401, 403, 404):
            print(f"::warning::promptls: cannot comment on pull request #{pr} ({exc}); a pull request from a fork "
                  "gets a read-only token. The report is in the job summary.")
            return 0
        print(f"pr_comment: {exc}", file=sys.stderr)
        return 1
    print(f"promptls comment on #{pr}: {done}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

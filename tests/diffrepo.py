"""A temporary git repository with two commits, for the `promptls diff` tests.

Commit 1 (the base) and commit 2 (HEAD, checked out) differ by: an added, a removed, a renamed
(and edited) and a modified prompt file, a model switch, and an attachment change under a prompt
file whose own text did not change. Commit 2 also adds a budget that one file now exceeds.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from PIL import Image

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent"}

SHARED = "You are a careful analyst who answers in plain English and cites the filing page. " * 3

TRIAGE = ("You triage support tickets for a billing product. Labels: bug (something is broken), feature (a "
          "request for something new), question (how do I). One label per ticket. ") * 2

BASE_FILES = {
    "promptls.toml": "",
    "prompts/summarize.prompt.yaml": f"""\
model: claude-haiku-4-5
system: {SHARED!r}
messages:
  - role: user
    content: Summarise the attached filing in five bullet points.
attachments:
  - ../docs/filing.txt
""",
    "prompts/old-name.prompt.yaml": f"""\
model: claude-sonnet-4-6
system: {TRIAGE!r}
messages:
  - role: user
    content: Classify this ticket as bug, feature or question.
""",
    "prompts/retired.prompt.yml": """\
model: claude-sonnet-4-6
messages:
  - role: user
    content: This prompt is removed by the change.
""",
    "prompts/vision.prompt.yaml": """\
model: claude-sonnet-4-6
messages:
  - role: user
    content:
      - text: What does this chart show?
      - image: ../assets/chart.png
""",
    "prompts/switch.prompt.yaml": """\
model: claude-haiku-4-5
system: Answer briefly.
messages:
  - role: user
    content: What is the capital of France?
""",
    "docs/filing.txt": "Revenue grew 4% in the quarter.\n",
    "README.md": "not a prompt\n",
}

HEAD_CHANGES: dict[str, str | None] = {
    "promptls.toml": "budget = 400\n",
    # modified: a longer user message
    "prompts/summarize.prompt.yaml": BASE_FILES["prompts/summarize.prompt.yaml"].replace(
        "five bullet points.", "five bullet points, then list every risk factor the filing names with its page, "
        "then compare the quarter with the previous three quarters in a table."),
    # renamed (and a small edit, still detected as a rename)
    "prompts/old-name.prompt.yaml": None,
    "prompts/triage.prompt.yaml": f"""\
model: claude-sonnet-4-6
system: {TRIAGE!r}
messages:
  - role: user
    content: Classify this ticket as bug, feature or question, and say why.
""",
    "prompts/retired.prompt.yml": None,  # removed
    "prompts/new.prompt.yaml": """\
model: claude-opus-4-6
system: You write release notes.
messages:
  - role: user
    content: Write release notes for version 2.0 from the changelog below.
""",  # added
    "prompts/switch.prompt.yaml": BASE_FILES["prompts/switch.prompt.yaml"].replace("claude-haiku-4-5",
                                                                                   "claude-opus-4-6"),
    "docs/filing.txt": "Revenue grew 4% in the quarter. " * 400 + "\n",  # attachment grows; prompt text unchanged
}


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    env.pop("GITHUB_BASE_REF", None)
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env=env).stdout


def _write(repo: Path, files: dict[str, str | None]) -> None:
    for rel, content in files.items():
        path = repo / rel
        if content is None:
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")


def _chart(repo: Path, size: tuple[int, int]) -> None:
    (repo / "assets").mkdir(exist_ok=True)
    Image.new("RGB", size, (200, 40, 40)).save(repo / "assets" / "chart.png")


def make_repo(repo: Path, config: str = "") -> tuple[str, str]:
    """Create the repository; returns (base commit, head commit). The working tree is at HEAD, clean.
    `config` goes into promptls.toml at both revisions."""
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q", "-b", "main")
    _write(repo, {**BASE_FILES, "promptls.toml": config})
    _chart(repo, (400, 300))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    base = git(repo, "rev-parse", "HEAD").strip()
    _write(repo, {**HEAD_CHANGES, "promptls.toml": config + (HEAD_CHANGES["promptls.toml"] or "")})
    _chart(repo, (1200, 900))  # a second attachment change: a bigger image
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "change")
    return base, git(repo, "rev-parse", "HEAD").strip()

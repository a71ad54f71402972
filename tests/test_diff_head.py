"""HEAD's side of the editor comparison (promptls.diff.head): HEAD's text *and* HEAD's attachments."""

from __future__ import annotations

from pathlib import Path

from promptls.config import load_config
from promptls.diff.head import head_side
from promptls.engine import analyze_file
from tests.diffrepo import git

PROMPT = "model: claude-sonnet-4-6\nmessages:\n  - role: user\n    content: Summarise.\nattachments:\n  - notes.txt\n"


def test_head_side_reads_the_file_and_its_attachments_as_head_has_them(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "promptls.toml").write_text("")
    (repo / "a.prompt.yaml").write_text(PROMPT)
    (repo / "notes.txt").write_text("Quarterly revenue grew.\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "one")
    config, _ = load_config(repo)
    at_head = analyze_file(repo / "a.prompt.yaml", config).total  # the working tree is HEAD right now

    (repo / "notes.txt").write_text("Quarterly revenue grew, and here is every line item. " * 200)
    (repo / "a.prompt.yaml").write_text(PROMPT.replace("Summarise.", "Summarise in detail, with a table."))
    side = head_side(repo / "a.prompt.yaml", config, "claude-sonnet-4-6")
    assert side is not None and side.commit == git(repo, "rev-parse", "HEAD").strip()
    assert side.total == at_head and side.model == "claude-sonnet-4-6"
    assert analyze_file(repo / "a.prompt.yaml", config).total > at_head + 1000  # the edit is not HEAD's

    (repo / "b.prompt.yaml").write_text(PROMPT)
    new = head_side(repo / "b.prompt.yaml", config, "claude-sonnet-4-6")
    assert new is not None and new.total is None  # not in HEAD


def test_no_head_outside_git_or_before_the_first_commit(tmp_path: Path) -> None:
    (tmp_path / "promptls.toml").write_text("")
    (tmp_path / "a.prompt.yaml").write_text(PROMPT)
    config, _ = load_config(tmp_path)
    git(tmp_path, "init", "-q", "-b", "main")
    assert head_side(tmp_path / "a.prompt.yaml", config, None) is None

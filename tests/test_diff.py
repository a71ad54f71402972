"""`promptls diff` through the CLI on a real temporary git repository (tests/diffrepo.py).

The central promise: each side's numbers are what `promptls count` prints in a checkout of that
revision, offline and with exact counts from the (fake) API.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.diffrepo import git, make_repo


def run(*args: str, cwd: Path, env: dict[str, str] | None = None, cache: Path) -> subprocess.CompletedProcess:
    e = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "GITHUB_"))}
    e["PROMPTLS_CACHE_DIR"] = str(cache)
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "promptls", *args], cwd=cwd, env=e, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str, str]:
    base, head = make_repo(tmp_path / "repo")
    return tmp_path / "repo", base, head


def _count(checkout: Path, cache: Path, env: dict[str, str] | None = None) -> dict[str, dict]:
    out = run("count", "--format", "json", "prompts", cwd=checkout, cache=cache, env=env)
    assert out.returncode in (0, 1), out.stderr
    return {f["path"]: f for f in json.loads(out.stdout)["files"]}


def _parts(file_json: dict) -> dict[str, int]:
    return {p["id"]: p["tokens"] for p in file_json["parts"]} | {"overhead": file_json["overhead"]}


@pytest.mark.parametrize("counting", ["offline", "api"])
def test_each_side_equals_an_independent_count_run_at_that_revision(repo, tmp_path: Path, counting: str,
                                                                    request: pytest.FixtureRequest) -> None:
    env: dict[str, str] = {}
    if counting == "api":
        fake = request.getfixturevalue("fake_api")
        user_config = tmp_path / "user-config.toml"  # the request rate is the user's to raise
        user_config.write_text("requests_per_minute = 1000\n")
        env = {"ANTHROPIC_BASE_URL": fake.url, "ANTHROPIC_API_KEY": fake.key, "PROMPTLS_USER_CONFIG": str(user_config)}
        base, _ = make_repo(tmp_path / "api-repo", config="requests_per_minute = 1000\n")
        path = tmp_path / "api-repo"
    else:
        path, base, _ = repo
    cache = tmp_path / "cache"
    out = run("diff", "--base", base, "--format", "json", cwd=path, cache=cache, env=env)
    assert out.returncode == 0, out.stderr
    diff = json.loads(out.stdout)

    checkout = tmp_path / "base-checkout"
    git(path, "worktree", "add", "-q", "--detach", str(checkout), base)
    # independent runs: their own processes, and a cache of their own
    before = _count(checkout, tmp_path / "cache-before", env)
    after = _count(path, tmp_path / "cache-after", env)

    files = {f["path"]: f for f in diff["files"]}
    assert {p: f["status"] for p, f in files.items()} == {
        "prompts/new.prompt.yaml": "added",
        "prompts/retired.prompt.yml": "removed",
        "prompts/triage.prompt.yaml": "renamed",
        "prompts/summarize.prompt.yaml": "modified",  # its attachment changed, and its text
        "prompts/switch.prompt.yaml": "modified",
        "prompts/vision.prompt.yaml": "modified",  # only its image changed
    }
    assert files["prompts/triage.prompt.yaml"]["old_path"] == "prompts/old-name.prompt.yaml"
    for rel, f in files.items():
        old = f["old_path"] or rel
        if f["before"] is not None:
            counted = before[old]
            assert (f["before"]["total"], f["before"]["model"], f["before"]["exact"]) == \
                (counted["total"], counted["model"], counted["exact"]), rel
            assert f["before"]["cost_usd"] == counted["cost_usd"]
            assert {p["id"]: p["before"] for p in f["parts"] if p["before"] is not None} == _parts(counted)
        else:
            assert old not in before
        if f["after"] is not None:
            counted = after[rel]
            assert (f["after"]["total"], f["after"]["model"], f["after"]["exact"]) == \
                (counted["total"], counted["model"], counted["exact"]), rel
            assert f["after"]["cost_usd"] == counted["cost_usd"]
            assert {p["id"]: p["after"] for p in f["parts"] if p["after"] is not None} == _parts(counted)
        else:
            assert rel not in after
        assert f["delta"] == (f["after"] or {"total": 0})["total"] - (f["before"] or {"total": 0})["total"]
    t = diff["totals"]
    assert t["before"] == sum(before[f["old_path"] or p]["total"] for p, f in files.items() if f["before"])
    assert t["after"] == sum(after[p]["total"] for p, f in files.items() if f["after"])
    assert t["exact"] is (counting == "api") and diff["api"]["state"] == ("exact" if counting == "api" else "no-key")
    # every unchanged prompt file is left out: old-name/retired/... only where they changed
    assert len(files) == 6


def test_model_switch_attachments_and_findings(repo, tmp_path: Path) -> None:
    path, base, _ = repo
    out = run("diff", "--base", base, "--format", "json", cwd=path, cache=tmp_path / "cache")
    files = {f["path"]: f for f in json.loads(out.stdout)["files"]}
    switch = files["prompts/switch.prompt.yaml"]
    assert switch["model_changed"] is True
    assert switch["before"]["model"].startswith("claude-haiku-4-5") and switch["after"]["model"] == "claude-opus-4-6"
    assert switch["delta"] == 0 and switch["cost_delta_usd"] > 0  # same tokens, dearer model: re-priced
    assert files["prompts/vision.prompt.yaml"]["attachments_changed"] == ["assets/chart.png"]
    assert files["prompts/summarize.prompt.yaml"]["attachments_changed"] == ["docs/filing.txt"]
    image = next(p for p in files["prompts/vision.prompt.yaml"]["parts"] if p["id"].endswith("content[1]"))
    assert image["after"] > image["before"]  # a 1200×900 chart costs more than a 400×300 one
    appeared = {(p, x["code"]) for p, f in files.items() for x in f["findings"]["appeared"]}
    assert ("prompts/summarize.prompt.yaml", "budget-exceeded") in appeared  # the change adds `budget = 400`
    assert all(not f["findings"]["disappeared"] for f in files.values())


def test_reverse_diff_negates_every_number_and_a_decrease_never_fails(repo, tmp_path: Path) -> None:
    path, base, head = repo
    forward = json.loads(run("diff", "--base", base, "--format", "json", cwd=path, cache=tmp_path / "c").stdout)
    git(path, "checkout", "-q", base)
    out = run("diff", "--base", head, "--format", "json", "--fail-above", "0", cwd=path, cache=tmp_path / "c")
    assert out.returncode == 0, out.stdout + out.stderr
    back = json.loads(out.stdout)
    assert back["totals"]["delta"] == -forward["totals"]["delta"] < 0
    assert back["gate"]["exceeded"] is False
    status = {f["path"]: f["status"] for f in back["files"]}
    assert status["prompts/new.prompt.yaml"] == "removed" and status["prompts/retired.prompt.yml"] == "added"
    assert status["prompts/old-name.prompt.yaml"] == "renamed"
    gone = {(f["path"], x["code"]) for f in back["files"] for x in f["findings"]["disappeared"]}
    assert ("prompts/summarize.prompt.yaml", "budget-exceeded") in gone


@pytest.mark.parametrize(("limit", "code"), [("1000000", 0), ("100", 1), ("10%", 1), ("100000%", 0), ("0", 1)])
def test_fail_above_gate(repo, tmp_path: Path, limit: str, code: int) -> None:
    path, base, _ = repo
    out = run("diff", "--base", base, "--fail-above", limit, cwd=path, cache=tmp_path / "cache")
    assert out.returncode == code, out.stdout + out.stderr
    assert ("FAIL:" in out.stdout) is (code == 1)


@pytest.mark.parametrize("bad", ["lots", "-5", "5%%", ""])
def test_fail_above_rejects_nonsense(repo, tmp_path: Path, bad: str) -> None:
    path, base, _ = repo
    out = run("diff", "--base", base, "--fail-above", bad, cwd=path, cache=tmp_path / "cache")
    assert out.returncode == 2 and "--fail-above" in out.stderr and "Traceback" not in out.stderr


def test_terminal_table(repo, tmp_path: Path) -> None:
    path, base, _ = repo
    out = run("diff", "--base", base, cwd=path, cache=tmp_path / "cache")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert text.startswith(f"promptls diff: base {base[:10]} ({base}) → working tree")
    assert "renamed   prompts/old-name.prompt.yaml → prompts/triage.prompt.yaml" in text
    assert "model claude-haiku-4-5" in text and "→ claude-opus-4-6: the whole file is priced at the new model" in text
    assert "attachments changed: assets/chart.png" in text
    assert "+ prompts/summarize.prompt.yaml:" in text and "[budget-exceeded]" in text
    assert "total: 6 prompt files (1 added, 1 removed, 3 modified, 1 renamed)" in text
    assert "≈ marks offline estimates (no API key)" in text


def test_job_summary_is_appended_when_github_step_summary_is_set(repo, tmp_path: Path) -> None:
    path, base, _ = repo
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n")
    out = run("diff", "--base", base, "--format", "json", cwd=path, cache=tmp_path / "cache",
              env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert out.returncode == 0, out.stderr
    json.loads(out.stdout)  # stdout stays the asked-for format
    written = summary.read_text()
    assert written.startswith("# earlier step\n<!-- promptls-diff -->")
    assert "| `prompts/vision.prompt.yaml`<br><sub>modified · claude-sonnet-4-6</sub> |" in written


def test_default_base_is_the_merge_base_with_the_remote_default_branch(tmp_path: Path) -> None:
    origin = tmp_path / "origin"
    make_repo(origin)
    work = tmp_path / "work"
    subprocess.run(["git", "clone", "-q", str(origin), str(work)], check=True, capture_output=True)
    fork_point = git(work, "rev-parse", "HEAD").strip()
    git(work, "checkout", "-q", "-b", "feature")
    prompt = work / "prompts" / "triage.prompt.yaml"
    prompt.write_text(prompt.read_text() + "  - role: assistant\n    content: bug\n")
    git(work, "commit", "-q", "-am", "feature work")
    (work / "prompts" / "draft.prompt.yaml").write_text("messages:\n  - role: user\n    content: untracked draft\n")
    # main moves on after the branch point: the merge-base, not origin/main's tip, is the base
    (origin / "prompts" / "later.prompt.yaml").write_text("messages:\n  - role: user\n    content: on main\n")
    git(origin, "add", "-A")
    git(origin, "commit", "-q", "-m", "later on main")
    git(work, "fetch", "-q", "origin")

    out = run("diff", "--format", "json", cwd=work, cache=tmp_path / "cache")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["base"] == {"commit": fork_point, "label": "merge-base with origin/main"}
    assert {f["path"]: f["status"] for f in data["files"]} == {
        "prompts/triage.prompt.yaml": "modified", "prompts/draft.prompt.yaml": "added"}


def test_paths_limit_the_comparison(repo, tmp_path: Path) -> None:
    path, base, _ = repo
    out = run("diff", "--base", base, "--format", "json", "prompts/vision.prompt.yaml", cwd=path,
              cache=tmp_path / "cache")
    assert [f["path"] for f in json.loads(out.stdout)["files"]] == ["prompts/vision.prompt.yaml"]


@pytest.mark.parametrize("base", ["no-such-branch", "--output=/tmp/promptls-diff-injected"])
def test_unknown_base_is_a_clear_error(repo, tmp_path: Path, base: str) -> None:
    path, _, _ = repo
    out = run("diff", f"--base={base}", cwd=path, cache=tmp_path / "cache")
    assert out.returncode == 2 and "no such commit" in out.stderr and "Traceback" not in out.stderr
    assert not Path("/tmp/promptls-diff-injected").exists()


def test_outside_a_repository_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "a.prompt.yaml").write_text("messages:\n  - role: user\n    content: hi\n")
    out = run("diff", cwd=tmp_path, cache=tmp_path / "cache", env={"GIT_CEILING_DIRECTORIES": str(tmp_path.parent)})
    assert out.returncode == 2 and "not inside a git repository" in out.stderr and "Traceback" not in out.stderr


def test_base_attachment_linking_outside_the_repository_is_not_read(tmp_path: Path) -> None:
    """A base commit may hold a link to a file outside the checkout: the base side refuses it as the
    working tree would, and its content never reaches a count."""
    repo = tmp_path / "repo"
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET " * 500)
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "promptls.toml").write_text("")
    (repo / "a.prompt.yaml").write_text("messages:\n  - role: user\n    content: read it\n"
                                        "attachments:\n  - notes.txt\n")
    os.symlink(secret, repo / "notes.txt")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "link")
    base = git(repo, "rev-parse", "HEAD").strip()
    (repo / "notes.txt").unlink()
    (repo / "notes.txt").write_text("short notes\n")
    git(repo, "commit", "-q", "-am", "real file")

    out = run("diff", "--base", base, "--format", "json", cwd=repo, cache=tmp_path / "cache")
    assert out.returncode == 0, out.stderr
    (f,) = json.loads(out.stdout)["files"]
    assert f["attachments_changed"] == ["notes.txt"]
    assert [x["code"] for x in f["findings"]["disappeared"]] == ["attachment-outside-root"]
    assert f["before"]["valid"] is False and f["after"]["valid"] is True
    assert str(tmp_path / "base") not in out.stdout and "promptls-diff-" not in out.stdout  # no temporary paths


def test_a_hostile_git_config_runs_nothing(tmp_path: Path) -> None:
    """A folder handed over with its own .git/config: fsmonitor, filter drivers picked by .gitattributes
    (even `required`) and an external diff never run; the diff still sees the change."""
    repo = tmp_path / "repo"
    ran = tmp_path / "ran"
    ran.mkdir()
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "promptls.toml").write_text("")
    (repo / "a.prompt.yaml").write_text("messages:\n  - role: user\n    content: hi\n")
    (repo / ".gitattributes").write_text("*.yaml filter=evil diff=evil\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "one")
    hook = tmp_path / "hook.sh"
    hook.write_text(f"#!/bin/sh\ntouch {ran}/$1\ncat\n")
    hook.chmod(0o755)
    for key, value in (("core.fsmonitor", f"{hook} fsmonitor"), ("filter.evil.clean", f"{hook} clean"),
                       ("filter.evil.process", f"{hook} process"), ("filter.evil.required", "true"),
                       ("diff.evil.textconv", f"{hook} textconv"), ("diff.external", f"{hook} external")):
        git(repo, "config", key, value)
    (repo / "a.prompt.yaml").write_text("messages:\n  - role: user\n    content: hi there, a longer question\n")
    os.utime(repo / "a.prompt.yaml", (1_600_000_000, 1_600_000_000))  # git must look at the content

    out = run("diff", "--base", "HEAD", "--format", "json", cwd=repo, cache=tmp_path / "cache")
    assert out.returncode == 0, out.stderr
    (f,) = json.loads(out.stdout)["files"]
    assert f["status"] == "modified" and f["delta"] > 0
    assert sorted(p.name for p in ran.iterdir()) == []


def test_include_globs_decide_what_is_a_prompt_file_as_in_count(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "promptls.toml").write_text('include = ["agents/*.yaml"]\n')
    (repo / "agents").mkdir()
    (repo / "agents" / "bot.yaml").write_text("messages:\n  - role: user\n    content: hi\n")
    (repo / "notes.yaml").write_text("not: a prompt\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "one")
    (repo / "agents" / "bot.yaml").write_text("messages:\n  - role: user\n    content: hi, and a longer one\n")
    (repo / "notes.yaml").write_text("still: not a prompt\n")
    out = run("diff", "--base", "HEAD", "--format", "json", cwd=repo, cache=tmp_path / "cache")
    assert out.returncode == 0, out.stderr
    assert [(f["path"], f["status"]) for f in json.loads(out.stdout)["files"]] == [("agents/bot.yaml", "modified")]

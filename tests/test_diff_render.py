"""The comparison and the pull-request comment, on reports built by hand (so engine changes cannot move
the snapshot): pairing, Δ, re-pricing, findings, the Markdown snapshot, GitHub's size limit, escaping."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from promptls.diff.compare import Gate, compare, totals
from promptls.diff.git import Base, inside
from promptls.diff.render import GITHUB_COMMENT_LIMIT, MARKER, NO_CHANGE, markdown, text, to_json
from promptls.diff.run import DiffResult
from promptls.model import FileReport, Finding, PartReport, Severity, Span

SNAPSHOT = Path(__file__).parent / "data" / "diff-comment.md"
PRICE = {"claude-haiku-4-5": 1.0, "claude-sonnet-4-6": 3.0, "claude-opus-4-6": 5.0}  # $/MTok input


def report(path: str, model: str, parts: dict[str, int], overhead: int = 7, exact: bool = True,
           findings: list[Finding] | None = None) -> FileReport:
    prs = [PartReport(pid, "message" if pid.startswith("messages") else "system",
                      f"user #{int(pid[9:-1]) + 1}" if pid.startswith("messages") else pid, Span.at(i + 1), n, exact)
           for i, (pid, n) in enumerate(parts.items())]
    total = sum(parts.values()) + overhead
    return FileReport(path, model, model, prs, overhead, total, exact, 200_000, 64_000, total * PRICE[model] / 1e6,
                      findings or [])


def over_budget(n: int) -> Finding:
    return Finding("budget-exceeded", f"{n:,} input tokens exceed the budget of 2,000", Severity.WARNING,
                   Span.at(0), "p")


def sample() -> DiffResult:
    files = [
        compare("modified", "prompts/summarize.prompt.yaml", "prompts/summarize.prompt.yaml",
                report("a", "claude-sonnet-4-6", {"system": 1_204, "messages[0]": 310}, findings=[]),
                report("a", "claude-sonnet-4-6", {"system": 1_204, "messages[0]": 2_950},
                       findings=[over_budget(4_161)]), ["docs/filing.pdf"]),
        compare("renamed", "prompts/triage.prompt.yaml", "prompts/old-triage.prompt.yaml",
                report("b", "claude-haiku-4-5", {"messages[0]": 40}), report("b", "claude-haiku-4-5",
                                                                             {"messages[0]": 52})),
        compare("modified", "prompts/switch.prompt.yaml", "prompts/switch.prompt.yaml",
                report("c", "claude-haiku-4-5", {"messages[0]": 900}),
                report("c", "claude-opus-4-6", {"messages[0]": 900})),
        compare("added", "prompts/new.prompt.yaml", None, None, report("d", "claude-opus-4-6", {"system": 88})),
        compare("removed", "prompts/old.prompt.yaml", "prompts/old.prompt.yaml",
                report("e", "claude-sonnet-4-6", {"messages[0]": 500}, findings=[over_budget(2_100)]), None),
    ]
    return DiffResult(Path("/repo"), Base("0123456789abcdef0123456789abcdef01234567", "merge-base with origin/main"),
                      "fedcba9876543210fedcba9876543210fedcba98", files, totals(files), "auto", "exact")


def test_pairs_parts_and_reprices_a_model_switch() -> None:
    result = sample()
    by = {f.path: f for f in result.files}
    s = by["prompts/summarize.prompt.yaml"]
    assert [(p.id, p.before, p.after, p.delta) for p in s.parts] == [
        ("system", 1_204, 1_204, 0), ("messages[0]", 310, 2_950, 2_640), ("overhead", 7, 7, 0)]
    assert s.delta == 2_640 and s.delta_pct == pytest.approx(2_640 / 1_521 * 100)
    assert [f.code for f in s.appeared] == ["budget-exceeded"] and not s.disappeared
    sw = by["prompts/switch.prompt.yaml"]
    assert sw.delta == 0 and sw.model_changed and sw.cost_delta == pytest.approx(907 * 4 / 1e6)
    gone = by["prompts/old.prompt.yaml"]
    assert gone.tokens_after == 0 and [f.code for f in gone.disappeared] == ["budget-exceeded"]
    t = result.totals
    assert (t.before, t.after) == (1_521 + 47 + 907 + 507, 4_161 + 59 + 907 + 95)


def test_the_same_finding_with_new_numbers_is_still_there() -> None:
    f = compare("modified", "p", "p",
                report("p", "claude-sonnet-4-6", {"system": 2_100}, findings=[over_budget(2_107)]),
                report("p", "claude-sonnet-4-6", {"system": 2_500}, findings=[over_budget(2_507)]))
    assert not f.appeared and not f.disappeared


def test_markdown_matches_the_snapshot() -> None:
    rendered = markdown(sample(), Gate.parse("10%"))
    if os.environ.get("PROMPTLS_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(rendered, encoding="utf-8")
    assert rendered == SNAPSHOT.read_text(encoding="utf-8")


def test_markdown_puts_totals_first_and_the_details_last() -> None:
    md = markdown(sample())
    assert md.startswith(MARKER + "\n## promptls")
    assert md.index("**+2,240 input tokens") < md.index("| **Δ** |") < md.index("### Changed prompt files") \
        < md.index("### Findings") < md.index("<details>") < md.index("</details>")
    assert "<sub>modified · claude-haiku-4-5 → claude-opus-4-6, re-priced</sub>" in md
    assert NO_CHANGE not in md


def test_a_comment_without_changes_says_so_and_is_marked_quiet() -> None:
    same = report("p", "claude-sonnet-4-6", {"system": 10})
    files = [compare("modified", "p.prompt.yaml", "p.prompt.yaml", same, same)]
    md = markdown(DiffResult(Path("/r"), Base("a" * 40, "HEAD"), None, files, totals(files), "offline", "offline"))
    assert md.startswith(f"{MARKER}\n{NO_CHANGE}\n")


def test_thousands_of_files_fit_in_one_github_comment() -> None:
    files = [compare("modified", f"prompts/team-{i:04d}/a-rather-long-prompt-file-name.prompt.yaml", None,
                     report("x", "claude-sonnet-4-6", {"system": 1_000 + i, "messages[0]": 20}),
                     report("x", "claude-sonnet-4-6", {"system": 1_000 + 2 * i, "messages[0]": 25}))
             for i in range(3_000)]
    md = markdown(DiffResult(Path("/r"), Base("b" * 40, "HEAD"), None, files, totals(files), "auto", "exact"))
    assert len(md) <= GITHUB_COMMENT_LIMIT
    assert md.rstrip().endswith("</sub>") and md.count("<details>") == md.count("</details>") == 1
    assert "more files left out to fit one comment" in md
    assert md.count("| `prompts/team-") == 10  # the ten biggest movers, the rest collapsed
    assert "team-2999" in md.split("<details>")[0]  # the biggest mover is listed first


def test_repository_text_cannot_format_mention_or_inject_html() -> None:
    evil = "x|y @octocat <img src=x onerror=alert(1)> [link](https://evil.example) `tick`.prompt.yaml"
    msg = Finding("budget-exceeded", "see <script>alert(1)</script> and @admins | ping", Severity.WARNING, Span.at(0))
    files = [compare("added", evil, None, None, report("e", "claude-sonnet-4-6", {"system": 5}, findings=[msg]))]
    md = markdown(DiffResult(Path("/r"), Base("c" * 40, "HEAD"), None, files, totals(files), "auto", "exact"))
    assert "``x¦y @octocat <img src=x onerror=alert(1)> [link](https://evil.example) `tick`.prompt.yaml``" in md
    outside_code = re.sub(r"(?<!`)(`+)(?!`)(.*?)(?<!`)\1(?!`)", "", md)  # a code span shows its text as is
    for raw in ("<img", "<script", "@octocat", "@admins", "](https", "x|y"):
        assert raw not in outside_code, raw
    for line in md.splitlines():
        if line.startswith("| `"):  # the table row keeps its 5 columns: the path's `|` cannot split it
            assert line.count(" | ") == 4


def test_json_is_stable() -> None:
    data = to_json(sample(), Gate.parse("2000"))
    assert list(data) == ["version", "promptls", "catalog_date", "base", "head", "api", "totals", "files", "gate"]
    assert data["version"] == 1 and data["gate"] == {"fail_above": "2,000 tokens", "amount": 2000.0,
                                                     "percent": False, "exceeded": True}
    f = data["files"][1]
    assert list(f) == ["status", "path", "old_path", "before", "after", "delta", "delta_pct", "cost_delta_usd",
                       "model_changed", "attachments_changed", "parts", "findings"]
    assert (f["status"], f["old_path"], f["delta"]) == ("renamed", "prompts/old-triage.prompt.yaml", 12)
    assert f["parts"][0] == {"id": "messages[0]", "label": "user #1", "parent": None, "before": 40, "after": 52,
                             "delta": 12, "delta_pct": 30.0, "exact": True}
    added = data["files"][3]
    assert added["status"] == "added" and added["delta_pct"] is None and added["parts"][0]["delta_pct"] is None


def test_terminal_text_lists_only_parts_that_moved() -> None:
    out = text(sample())
    section = out.split("prompts/summarize.prompt.yaml")[1].split("renamed")[0]
    assert "  user #1  " in section and "overhead" not in section
    assert "system" not in out.split("prompts/summarize.prompt.yaml")[1].split("renamed")[0]  # unchanged part hidden


@pytest.mark.parametrize(("limit", "delta", "before", "exceeded"), [
    ("100", 101, 1000, True), ("100", 100, 1000, False), ("10%", 101, 1000, True), ("10%", 100, 1000, False),
    ("0", 1, 0, True), ("50%", 5, 0, True), ("0", -10, 100, False), ("1,500", 1_600, 10, True)])
def test_gate(limit: str, delta: int, before: int, exceeded: bool) -> None:
    from promptls.diff.compare import Totals

    assert Gate.parse(limit).exceeded(Totals(1, before, before + delta, 0.0, 0.0, True)) is exceeded


@pytest.mark.parametrize(("rel", "expected"), [("a/b/../c.pdf", "a/c.pdf"), ("./a.pdf", "a.pdf"), ("../x", None),
                                               ("a/../../x", None), ("a//b", "a/b")])
def test_repository_paths_never_leave_the_repository(rel: str, expected: str | None) -> None:
    assert inside(rel) == expected

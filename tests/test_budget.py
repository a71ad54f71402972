"""Budget, glob budget, context window and workspace findings."""

from pathlib import Path

from promptls.budget import file_findings, workspace_findings
from promptls.config import Config, GlobBudget
from promptls.model import FileReport, Span


def _findings(tmp_path: Path, **kw):
    args = dict(path=tmp_path / "p.prompt.yaml", total=1000, exact=True, worst_row=None, file_budget=None,
                budget_span=None, config=Config(root=tmp_path), context_window=200_000, max_output=64_000,
                max_tokens=None, max_tokens_span=None, model="claude-x")
    args.update(kw)
    return file_findings(**args)


def test_within_budget_is_quiet(tmp_path: Path) -> None:
    assert _findings(tmp_path, file_budget=5000) == []


def test_file_budget_exceeded_points_at_budget_key(tmp_path: Path) -> None:
    span = Span.at(7, 0, 7, 6)
    (f,) = _findings(tmp_path, total=1200, exact=False, file_budget=1000, budget_span=span)
    assert f.code == "budget-exceeded" and f.span == span
    assert "≈ 1,200" in f.message and "1,000" in f.message and "+20%" in f.message


def test_glob_budget_and_worst_testdata_row(tmp_path: Path) -> None:
    cfg = Config(root=tmp_path, budgets=(GlobBudget("*.prompt.yaml", 900),))
    (f,) = _findings(tmp_path, config=cfg, worst_row=2)
    assert f.code == "glob-budget-exceeded" and "row 3" in f.message


def test_context_window_counts_max_output(tmp_path: Path) -> None:
    out = _findings(tmp_path, total=190_000, max_tokens=20_000, max_tokens_span=Span.at(3, 2))
    assert [f.code for f in out] == ["context-window-exceeded"]
    assert out[0].span == Span.at(3, 2) and "210,000" in out[0].message


def test_max_tokens_above_model_maximum(tmp_path: Path) -> None:
    out = _findings(tmp_path, max_tokens=100_000, context_window=1_000_000)
    assert [f.code for f in out] == ["max-tokens-too-large"]


def _report(path: str, total: int) -> FileReport:
    return FileReport(path, "m", "m", [], 0, total, True, 1000, 10, 0.0, [])


def test_workspace_budget_is_one_finding_on_the_largest_file(tmp_path: Path) -> None:
    cfg = Config(root=tmp_path, workspace_budget=250)
    reports = [_report("a", 100), _report("b", 120), _report("c", 80)]
    (f,) = workspace_findings(reports, cfg)
    assert f.path == "b" and f.code == "workspace-budget-exceeded"
    assert "300" in f.message and "250" in f.message and "b 120 (40%)" in f.message
    assert workspace_findings(reports, Config(root=tmp_path, workspace_budget=300)) == []


def test_only_the_most_specific_budget_applies(tmp_path: Path) -> None:
    cfg = Config(root=tmp_path, budget=500, budgets=(GlobBudget("*.prompt.yaml", 800),
                                                     GlobBudget("support/*.prompt.yaml", 900)))
    path = tmp_path / "support" / "p.prompt.yaml"
    (f,) = _findings(tmp_path, config=cfg, path=path, total=1000)  # over all three; one finding
    assert f.code == "glob-budget-exceeded" and "`support/*.prompt.yaml`" in f.message and "900" in f.message
    assert _findings(tmp_path, config=cfg, path=path, total=850) == []  # the default and `*` do not apply
    (own,) = _findings(tmp_path, config=cfg, path=path, total=1000, file_budget=950)
    assert own.code == "budget-exceeded" and "this file's budget" in own.message
    (default,) = _findings(tmp_path, config=Config(root=tmp_path, budget=500), total=1000)
    assert default.code == "budget-exceeded" and "the default budget" in default.message

"""What `promptls check` and `count` print for real repositories: a broken promptls.toml is an error
everywhere, include globs and the "no prompt files" message, the testData row of the table's total,
tiny costs, and the tool-use system prompt as its own row in the table and the JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from promptls.model import Finding, Severity, Span
from promptls.render.numbers import usd
from promptls.render.summary import Summary, plan

HELLO = "model: claude-haiku-4-5\nmessages:\n  - role: user\n    content: Hi\n"


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    env["PROMPTLS_CACHE_DIR"] = str(cwd / ".cache")
    return subprocess.run([sys.executable, "-m", "promptls", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def broken_config(tmp_path: Path) -> Path:
    (tmp_path / "promptls.toml").write_text('budget = 10\n[budgets\n"*.prompt.yaml" = 5\n', encoding="utf-8")
    (tmp_path / "a.prompt.yaml").write_text(HELLO, encoding="utf-8")
    return tmp_path


def test_broken_config_is_an_error_in_text(broken_config: Path) -> None:
    out = run(broken_config, "check", ".")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    (line,) = [x for x in out.stdout.splitlines() if "config-syntax" in x]
    assert line.startswith("promptls.toml:2:") and "error:" in line and "no setting of this file applies" in line


def test_broken_config_is_an_annotation_in_github_and_a_result_in_sarif(broken_config: Path) -> None:
    gh = run(broken_config, "check", ".", "--format", "github")
    assert gh.returncode == 2
    (line,) = [x for x in gh.stdout.splitlines() if "config-syntax" in x]
    assert line.startswith("::error file=promptls.toml,line=2,")
    sarif = run(broken_config, "check", ".", "--format", "sarif")
    assert sarif.returncode == 2
    (result,) = [r for r in json.loads(sarif.stdout)["runs"][0]["results"] if r["ruleId"] == "config-syntax"]
    assert result["level"] == "error"
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "promptls.toml"
    data = json.loads(run(broken_config, "check", ".", "--format", "json").stdout)
    assert [f["code"] for f in data["workspace"]["findings"]] == ["config-syntax"]


def test_include_globs_and_no_prompt_files_names_the_patterns(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "hello.yml").write_text(HELLO, encoding="utf-8")
    out = run(tmp_path, "check", ".")
    assert out.returncode == 2 and "no prompt files" in out.stderr
    assert "**/*.prompt.yaml, **/*.prompt.yml" in out.stderr and "`include`" in out.stderr
    (tmp_path / "promptls.toml").write_text('include = ["examples/*.yml"]\n', encoding="utf-8")
    data = json.loads(run(tmp_path, "check", ".", "--format", "json").stdout)
    assert [Path(f["path"]).as_posix() for f in data["files"]] == ["examples/hello.yml"]
    assert data["files"][0]["valid"] and data["files"][0]["total"] > 0


def test_table_says_which_testdata_row_its_total_is_and_tiny_costs(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "t.prompt.yaml").write_text(
        "model: claude-haiku-4-5\nmessages:\n  - role: user\n    content: 'Hi {{who}}'\n"
        "testData:\n  - who: Al\n  - who: Bartholomew the Magnificent of the Western Isles\n", encoding="utf-8")
    out = run(tmp_path, "count", ".")
    (total,) = [x for x in out.stdout.splitlines() if x.strip().startswith("total")]
    assert total.endswith("testData row 1 of 2")
    assert "<$0.0001 input" in total  # not $0.0000
    assert "max ≈" in out.stdout and "(row 2)" in out.stdout


def test_usd_never_prints_zero_for_a_cost() -> None:
    assert usd(0.00003) == "<$0.0001" and usd(0.00012) == "$0.0001" and usd(0.0) == "$0"
    assert usd(0.0017) == "$0.0017" and usd(0.037) == "$0.037"


def test_tool_use_system_prompt_row_in_the_table_and_json(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "t.prompt.yaml").write_text(
        "model: claude-sonnet-4-6\ntools:\n  - name: a\n    description: A.\n    input_schema: {type: object}\n"
        "  - name: b\n    description: B.\n    input_schema: {type: object}\n"
        "messages:\n  - role: user\n    content: Hi\n", encoding="utf-8")
    table = run(tmp_path, "count", ".").stdout
    assert "    tool-use system prompt" in table
    data = json.loads(run(tmp_path, "count", ".", "--format", "json").stdout)
    parts = {p["id"]: p for p in data["files"][0]["parts"]}
    kids = [p for p in parts.values() if p["parent"] == "tools"]
    assert parts["tools.system"]["kind"] == "tool-system" and parts["tools.system"]["parent"] == "tools"
    assert sum(p["tokens"] for p in kids) == parts["tools"]["tokens"]


def test_summary_groups_shared_causes_but_never_budgets_or_errors() -> None:
    def f(code: str, sev: Severity = Severity.INFO, blocking: bool = False) -> Finding:
        return Finding(code, f"{code} here", sev, Span.at(0), blocking=blocking, data={"model": "gpt-4o"})

    items = [(f"p{i}", f("model-not-claude")) for i in range(3)]
    items += [(f"p{i}", f("budget-exceeded", Severity.WARNING)) for i in range(3)]
    items += [("only", f("model-not-claude"))]
    out = plan(items)
    summaries = [x for x in out if isinstance(x, Summary)]
    assert [s.code for s in summaries] == ["model-not-claude"] and "4 files" in summaries[0].message
    assert sum(1 for x in out if not isinstance(x, Summary) and x[1].code == "budget-exceeded") == 3
    assert plan(items[:1]) == items[:1]  # a cause in one file is that file's line
    assert plan(items, show_all=True) == items

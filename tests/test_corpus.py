"""`promptls check` on a corpus of GitHub Models prompt files in the shapes real repositories use
(tests/corpus/): files GitHub Models accepts are never invalid, clean files print nothing, a problem
particular to one file prints one line, a cause shared by many files prints one summary line, and
budget and window findings always print per file. JSON and SARIF keep every instance."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path("tests/corpus")

# The only files promptls may call invalid, and why. Everything else in the corpus is a file
# GitHub Models' loader accepts and runs, so it must never be exit 2.
INVALID = {
    "problems/jinja-template.prompt.yml": ["yaml-syntax"],  # a Jinja template: GitHub Models' YAML loader fails too
    "problems/tools-and-image.prompt.yaml": ["schema-missing", "attachment-missing"],  # promptls additions, broken
    "problems/typo-mesages.prompt.yml": ["schema-missing"],  # no messages at all: nothing anyone could send
}
# A problem particular to one file: exactly these lines (one per independent problem) name the file.
PARTICULAR = {
    **INVALID,
    "problems/typo-sytem.prompt.yml": ["key-typo"],
    "problems/typo-tols.prompt.yaml": ["key-typo"],
    "problems/missing-row-values.prompt.yml": ["template-variable-missing"],  # two variables, one line
    "problems/bad-budget-value.prompt.yml": ["schema-value-ignored"],
    "problems/duplicate-key.prompt.yml": ["yaml-duplicate-key"],
    "budgets/over-own-budget.prompt.yml": ["budget-exceeded"],
    "budgets/support-reply.prompt.yml": ["glob-budget-exceeded"],  # one budget: the most specific glob
    "budgets/support-escalation.prompt.yml": ["glob-budget-exceeded"],
    "budgets/window.prompt.yml": ["context-window-exceeded"],
    "budgets/window-2.prompt.yml": ["context-window-exceeded"],
}
CACHE = str(Path(tempfile.gettempdir()) / "promptls-test-corpus-cache")
SHARED_CAUSES = ("model-not-claude", "template-runtime-variables", "template-variable-nested")


@cache
def check(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    env["PROMPTLS_CACHE_DIR"] = CACHE
    return subprocess.run([sys.executable, "-m", "promptls", "check", str(CORPUS), "--mode", "offline", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def report() -> dict:
    out = check("--format", "json")
    assert "Traceback" not in out.stderr
    return json.loads(out.stdout)


def rel(path: str) -> str:
    return Path(path).as_posix().removeprefix(CORPUS.as_posix() + "/")


def lines_naming(text: str, name: str) -> list[str]:
    return [line for line in text.splitlines() if f"{CORPUS.as_posix()}/{name}:" in line
            or f"file={CORPUS.as_posix()}/{name}," in line]


def test_corpus_is_large_and_include_globs_take_plain_yml_files() -> None:
    files = {rel(f["path"]) for f in report()["files"]}
    assert len(files) >= 40
    assert {"examples-yml/translate.yml", "examples-yml/spell.yml"} <= files  # `include` in its promptls.toml
    assert not any(p.endswith(".toml") or p.endswith(".png") for p in files)


def test_no_file_github_models_accepts_is_invalid() -> None:
    files = {rel(f["path"]): f for f in report()["files"]}
    invalid = {p for p, f in files.items() if not f["valid"]}
    assert invalid == set(INVALID)
    for path, f in files.items():
        if path not in INVALID:
            assert f["total"] > 0 and f["model"], path  # counted, not zero tokens
    shapes = [str(CORPUS / d) for d in ("clean", "github-models", "runtime", "nested", "extra-keys", "examples-yml")]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    out = subprocess.run([sys.executable, "-m", "promptls", "check", *shapes, "--mode", "offline"], cwd=ROOT,
                         env={**env, "PROMPTLS_CACHE_DIR": CACHE},
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_whole_corpus_exits_2_for_its_invalid_files() -> None:
    assert check().returncode == 2


@pytest.mark.parametrize("fmt", ["text", "github"])
def test_clean_files_print_nothing(fmt: str) -> None:
    out = check("--format", fmt).stdout
    clean = sorted(p.name for p in (ROOT / CORPUS / "clean").iterdir())
    assert len(clean) >= 8
    for name in clean:
        assert lines_naming(out, f"clean/{name}") == [], name
    assert not any("/clean/" in line.split(" [")[0].split("; largest:")[0] for line in out.splitlines())


@pytest.mark.parametrize("fmt", ["text", "github"])
def test_a_problem_particular_to_one_file_prints_one_line(fmt: str) -> None:
    out = check("--format", fmt).stdout
    for path, codes in PARTICULAR.items():
        found = lines_naming(out, path)
        assert len(found) == len(codes), (path, found)
        for line, code in zip(found, codes, strict=True):
            assert code in line, (path, line)


@pytest.mark.parametrize("fmt", ["text", "github"])
def test_repeated_causes_print_one_summary_line_each(fmt: str) -> None:
    out = check("--format", fmt).stdout
    per_code = Counter(f["code"] for f in _all_findings())
    for code in SHARED_CAUSES:
        assert per_code[code] >= 5, code  # many files share the cause ...
        lines = [line for line in out.splitlines() if f"[{code}]" in line or f"promptls {code}" in line]
        assert len(lines) == 1, (code, lines)  # ... and it is one line
        assert f"{per_code[code]} files" in lines[0] and "`--show-all` lists them" in lines[0]
        assert "file=" not in lines[0] and not lines[0].startswith(CORPUS.as_posix())


def _all_findings() -> list[dict]:
    data = report()
    return [f for file in data["files"] for f in file["findings"]] + data["workspace"]["findings"]


def test_json_and_sarif_keep_every_instance() -> None:
    data = report()
    json_codes = Counter(f["code"] for f in _all_findings())
    sarif = json.loads(check("--format", "sarif").stdout)
    sarif_codes = Counter(r["ruleId"] for r in sarif["runs"][0]["results"])
    assert sarif_codes == json_codes
    non_claude = [f for f in data["files"] if f["model_written"] and not f["model_written"].removeprefix(
        "anthropic/").startswith("claude") and f["valid"]]
    assert json_codes["model-not-claude"] == len(non_claude) >= 20


def test_show_all_prints_every_instance() -> None:
    out = check("--show-all").stdout
    per_code = Counter(f["code"] for f in _all_findings())
    for code in SHARED_CAUSES:
        assert sum(f"[{code}]" in line for line in out.splitlines()) == per_code[code]
    assert "--show-all" not in out


@pytest.mark.parametrize("fmt", ["text", "github", "json", "sarif"])
def test_workspace_budget_is_reported_once_in_every_format(fmt: str) -> None:
    out = check("--format", fmt).stdout
    if fmt == "sarif":
        results = json.loads(out)["runs"][0]["results"]
        (r,) = [r for r in results if r["ruleId"] == "workspace-budget-exceeded"]
        assert r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("promptls.toml")
        return
    assert out.count("workspace-budget-exceeded") == 1
    if fmt == "json":
        data = json.loads(out)
        (f,) = data["workspace"]["findings"]
        assert rel(f["path"]) == "promptls.toml" and f["range"]["start"]["line"] == 2
    else:
        (line,) = [x for x in out.splitlines() if "workspace-budget-exceeded" in x]
        assert "promptls.toml" in line and re.search(r"(:3:1:|line=3,)", line)


def test_budget_and_window_findings_always_print_per_file() -> None:
    text = check().stdout
    budget_files = [p for p, codes in PARTICULAR.items() if p.startswith("budgets/")]
    assert len(budget_files) == 5
    for path in budget_files:
        (line,) = lines_naming(text, path)
        assert "budget" in line or "context window" in line
    assert check("--format", "github").stdout.count("context-window-exceeded") == 2


def test_output_is_sorted_and_quiet_on_stderr() -> None:
    out = check()
    assert out.stderr == ""
    located = [line for line in out.stdout.splitlines() if line.startswith(CORPUS.as_posix())]
    positions = [(m.group(1), int(m.group(2)), int(m.group(3)))
                 for m in (re.match(r"(.+?):(\d+):(\d+): ", line) for line in located) if m]
    by_file: dict[str, list[tuple[int, int]]] = {}
    for path, line, col in positions:
        by_file.setdefault(path, []).append((line, col))
    assert all(v == sorted(v) for v in by_file.values())

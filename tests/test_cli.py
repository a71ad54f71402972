"""The CLI through a subprocess, as CI uses it: exit codes, formats, located errors, no tracebacks."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def run(*args: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    e = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    e["PROMPTLS_CACHE_DIR"] = str(cwd / ".promptls-test-cache") if cwd != ROOT else e.get("PROMPTLS_CACHE_DIR", "")
    e.update(env or {})
    if not e["PROMPTLS_CACHE_DIR"]:
        del e["PROMPTLS_CACHE_DIR"]
    return subprocess.run([sys.executable, "-m", "promptls", *args], cwd=cwd, env=e, capture_output=True,
                          text=True, timeout=120)


def test_version() -> None:
    out = run("--version")
    assert out.returncode == 0 and out.stdout.startswith("promptls ")


def test_count_examples_prints_a_table_per_file() -> None:
    out = run("count", "examples/")
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    assert "stock-agent.prompt.yaml" in out.stdout and "get_stock_price" in out.stdout
    assert "≈" in out.stdout and "offline estimate" in out.stdout
    assert "workspace:" in out.stdout


def test_count_json_shape() -> None:
    out = run("count", "--format", "json", "examples/")
    data = json.loads(out.stdout)
    assert data["version"] == 1 and data["api"]["mode"] == "auto"
    files = {Path(f["path"]).name: f for f in data["files"]}
    agent = files["stock-agent.prompt.yaml"]
    assert agent["exact"] is False and agent["total"] > 0
    top = [p for p in agent["parts"] if p["parent"] is None]
    assert sum(p["tokens"] for p in top) + agent["overhead"] == agent["total"]
    for p in agent["parts"]:
        assert set(p) >= {"id", "kind", "label", "range", "tokens", "exact"}
        assert p["range"]["start"]["line"] >= 0
    assert data["workspace"]["total"] == sum(f["total"] for f in data["files"])


def test_check_exit_1_when_over_budget() -> None:
    out = run("check", "examples/")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "budget-exceeded" in out.stdout and "chat.prompt.yaml" in out.stdout


def test_check_exit_0_within_budget() -> None:
    out = run("check", "examples/agents/")
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize(("content", "code"), [
    ("messages:\n  - role: user\n    content: [unclosed\n", "yaml-syntax"),
    ("messages:\n  - role: robot\n    content: hi\n", "schema-role"),
    ("", "empty-file"),
])
def test_check_exit_2_with_location_for_invalid_files(tmp_path: Path, content: str, code: str) -> None:
    (tmp_path / "promptls.toml").write_text("")
    (tmp_path / "bad.prompt.yaml").write_text(content)
    out = run("check", ".", cwd=tmp_path)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    assert f"[{code}]" in out.stdout
    assert "bad.prompt.yaml:" in out.stdout


def test_binary_garbage_and_non_utf8(tmp_path: Path) -> None:
    (tmp_path / "promptls.toml").write_text("")
    (tmp_path / "bin.prompt.yaml").write_bytes(b"model: x\nmessages: \xff\xfe\x00\x01")
    out = run("check", ".", cwd=tmp_path)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "bin.prompt.yaml:2:" in out.stdout


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    out = run("count", "nope/", cwd=tmp_path)
    assert out.returncode == 2 and "promptls: error: nope" in out.stderr and "Traceback" not in out.stderr


def test_no_prompt_files_is_a_clear_error(tmp_path: Path) -> None:
    out = run("check", ".", cwd=tmp_path)
    assert out.returncode == 2 and "no prompt files" in out.stderr


def test_github_annotations() -> None:
    out = run("check", "--format", "github", "examples/")
    line = next(ln for ln in out.stdout.splitlines() if "budget-exceeded" in ln)
    assert line.startswith("::warning file=") and ",line=" in line


def test_sarif_is_valid_2_1_0() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    out = run("check", "--format", "sarif", "examples/")
    sarif = json.loads(out.stdout)
    assert sarif["version"] == "2.1.0"
    results = sarif["runs"][0]["results"]
    assert any(r["ruleId"] == "budget-exceeded" for r in results)
    schema = json.loads((Path(__file__).parent / "data" / "sarif-2.1.0-subset.json").read_text())
    jsonschema.validate(sarif, schema)


def test_schema_command_prints_json_schema() -> None:
    out = run("schema")
    schema = json.loads(out.stdout)
    assert "properties" in schema and "messages" in schema["properties"]


def test_hints_hidden_by_default_in_check(tmp_path: Path) -> None:
    (tmp_path / "promptls.toml").write_text("")
    (tmp_path / "a.prompt.yaml").write_text("frobnicate: 1\nmessages:\n  - role: user\n    content: hi\n")
    quiet = run("check", ".", cwd=tmp_path)
    loud = run("check", "--show-hints", ".", cwd=tmp_path)
    assert quiet.returncode == 0 and "unknown-key" not in quiet.stdout
    assert "unknown-key" in loud.stdout

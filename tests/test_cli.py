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
    assert "≈" in out.stdout and "·  estimate" in out.stdout
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


def _api_env(fake) -> dict:
    """The fake endpoint, and a fast request rate from a user config (a repository may only lower it)."""
    user = Path(os.environ["PROMPTLS_CACHE_DIR"]) / "fast-user-config.toml"
    user.parent.mkdir(parents=True, exist_ok=True)
    user.write_text("requests_per_minute = 1000\n", encoding="utf-8")
    return {"ANTHROPIC_BASE_URL": fake.url, "ANTHROPIC_API_KEY": fake.key,
            "PROMPTLS_CACHE_DIR": os.environ["PROMPTLS_CACHE_DIR"], "PROMPTLS_USER_CONFIG": str(user)}


def test_count_with_api_is_exact_then_cached_then_two_requests_per_edit(fake_api, tmp_path: Path) -> None:
    from tests.fakeapi import count_request

    prompt = tmp_path / "a.prompt.yaml"
    prompt.write_text("model: claude-sonnet-4-6\nsystem: You are terse.\nmessages:\n"
                      "  - role: user\n    content: What is a token?\n"
                      "  - role: assistant\n    content: A piece of text.\n"
                      "  - role: user\n    content: How many in this sentence?\n")
    env = _api_env(fake_api)
    first = run("count", "--format", "json", ".", cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)
    (f,) = data["files"]
    assert f["exact"] is True and f["source"] == "api"
    assert f["total"] == count_request(fake_api.bodies[0])  # the endpoint's own answer, unchanged
    assert all(p["exact"] for p in f["parts"])
    assert sum(p["tokens"] for p in f["parts"] if p["parent"] is None) + f["overhead"] == f["total"]
    assert data["api"]["requests"] == fake_api.requests > 0

    fake_api.reset_counters()
    again = run("count", "--format", "json", ".", cwd=tmp_path, env=env)
    assert json.loads(again.stdout)["files"][0]["total"] == f["total"]
    assert fake_api.requests == 0

    prompt.write_text(prompt.read_text().replace("How many in this sentence?", "How many tokens are in this one?"))
    edited = run("count", "--format", "json", ".", cwd=tmp_path, env=env)
    assert json.loads(edited.stdout)["files"][0]["exact"] is True
    assert 1 <= fake_api.requests <= 2
    for out in (first, again, edited):
        assert fake_api.key not in out.stdout + out.stderr


def test_text_output_says_exact_and_counts_requests(fake_api, tmp_path: Path) -> None:
    (tmp_path / "a.prompt.yaml").write_text("messages:\n  - role: user\n    content: Hello, Claude\n")
    out = run("count", "-v", ".", cwd=tmp_path, env=_api_env(fake_api))
    assert out.returncode == 0, out.stderr
    assert "exact (count_tokens)" in out.stdout and "≈" not in out.stdout.split("overhead")[0]
    assert f"{fake_api.requests} requests, 0 from cache" in out.stdout
    assert "estimator accuracy against exact counts" in out.stdout


def test_rejected_key_falls_back_to_estimates_with_one_message(fake_api, tmp_path: Path) -> None:
    (tmp_path / "promptls.toml").write_text("")
    (tmp_path / "a.prompt.yaml").write_text("messages:\n  - role: user\n    content: Hello\n")
    (tmp_path / "b.prompt.yaml").write_text("messages:\n  - role: user\n    content: Bye\n")
    env = {**_api_env(fake_api), "ANTHROPIC_API_KEY": "sk-ant-wrong-key-0123456789"}
    out = run("check", ".", cwd=tmp_path, env=env)
    assert out.returncode == 0 and "Traceback" not in out.stderr
    assert (out.stdout + out.stderr).count("refused the key") == 1
    assert "sk-ant-wrong-key-0123456789" not in out.stdout + out.stderr
    assert fake_api.requests == 1


def test_check_with_api_asks_one_total_per_file(fake_api, tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.prompt.yaml").write_text(
            f"system: Be brief.\nmessages:\n  - role: user\n    content: Question {name}?\n"
            "  - role: assistant\n    content: Answer.\n  - role: user\n    content: Why?\nbudget: 5\n")
    out = run("check", "--format", "json", ".", cwd=tmp_path, env=_api_env(fake_api))
    assert out.returncode == 1, out.stderr  # each file's exact total is over its budget of 5
    data = json.loads(out.stdout)
    assert fake_api.requests == 3
    assert all(f["exact"] and not any(p["exact"] for p in f["parts"]) for f in data["files"])
    fake_api.reset_counters()
    out = run("check", "--exact-parts", "--format", "json", ".", cwd=tmp_path, env=_api_env(fake_api))
    assert fake_api.requests > 3  # totals come from the cache; parts cost their own requests
    assert all(p["exact"] for f in json.loads(out.stdout)["files"] for p in f["parts"])


def test_parallel_estimates_equal_serial_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    from promptls import cli, offline_pool
    from promptls.config import load_config
    from promptls.render.jsonreport import file_json
    from promptls.workspace import discover

    config, _ = load_config(EXAMPLES)
    files = list(discover([EXAMPLES]))
    serial = [file_json(r) for r in cli._offline_reports(files, config, None)]
    monkeypatch.setattr(offline_pool, "PARALLEL_MIN_FILES", 2)
    parallel = [file_json(r) for r in cli._offline_reports(files, config, None)]
    assert parallel == serial and len(serial) == len(files)


def test_models_api_windows_replace_the_table_and_are_cached_a_day(fake_api, tmp_path: Path) -> None:
    (tmp_path / "a.prompt.yaml").write_text("model: claude-haiku-4-5\nmessages:\n  - role: user\n"
                                            "    content: Hello there, how are you today?\n")
    fake_api.models = [{"id": "claude-haiku-4-5-20251001", "max_input_tokens": 12, "max_tokens": 4096}]
    out = run("check", "--format", "json", ".", cwd=tmp_path, env=_api_env(fake_api))
    (f,) = json.loads(out.stdout)["files"]
    assert f["context_window"] == 12 and f["max_output"] == 4096
    assert any(x["code"] == "context-window-exceeded" for x in f["findings"]) and out.returncode == 1
    run("check", ".", cwd=tmp_path, env=_api_env(fake_api))
    assert fake_api.model_listings == 1  # the second run used the cached listing


def test_models_api_failure_keeps_the_table(fake_api, tmp_path: Path) -> None:
    (tmp_path / "a.prompt.yaml").write_text("model: claude-haiku-4-5\nmessages:\n  - role: user\n    content: Hi\n")
    env = {**_api_env(fake_api), "PROMPTLS_CACHE_DIR": str(tmp_path / "own-cache")}
    fake_api.key = "sk-ant-other-key-0000000000"  # every call is refused: 401 on the listing and on counts
    out = run("count", "--format", "json", ".", cwd=tmp_path, env=env)
    assert out.returncode == 0 and json.loads(out.stdout)["files"][0]["context_window"] == 200_000


def test_a_closed_pipe_is_one_line_not_a_traceback() -> None:
    """`promptls count ... | head -3`: the reader is gone before promptls writes."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write now fails with EPIPE, deterministically
    e = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    try:
        out = subprocess.run([sys.executable, "-m", "promptls", "count", "examples/"], cwd=ROOT, env=e,
                             stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)
    assert "Traceback" not in out.stderr and "Exception ignored" not in out.stderr
    assert out.stderr.strip().splitlines() == ["promptls: error: output closed before the end (broken pipe)"]
    assert out.returncode == 2


def test_schema_to_a_missing_folder_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    target = tmp_path / "nonexistent" / "dir" / "s.json"
    out = run("schema", "-o", str(target), cwd=tmp_path)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines() == [f"promptls: error: {target}: cannot write the schema: "
                                               "No such file or directory"]


def test_schema_to_a_file_writes_it(tmp_path: Path) -> None:
    out = run("schema", "-o", "s.json", cwd=tmp_path)
    assert out.returncode == 0 and "messages" in json.loads((tmp_path / "s.json").read_text())["properties"]


@pytest.mark.parametrize("command", ["count", "check", "schema", "serve"])
def test_help_describes_the_command_and_every_option(command: str) -> None:
    out = run(command, "--help")
    assert out.returncode == 0
    usage, description = out.stdout.split("\n\n")[:2]
    assert usage.startswith("usage: promptls " + command) and len(description.strip()) > 20
    if command in ("count", "check"):
        options = out.stdout.split("options:", 1)[1]
        fmt = options.split("--format", 1)[1].split("\n  -", 1)[0]  # up to the next option
        assert "json" in fmt.split("}", 1)[1], fmt  # the help text, beside or below `--format {...}`

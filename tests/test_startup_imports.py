"""What `promptls count` of one file imports: every module is start-up time a user waits for on each
run, so the heavy ones stay off the paths that do not need them (a guard, not a timing test)."""

import json
import os
import subprocess
import sys
from pathlib import Path

PROMPT = """model: claude-sonnet-4-6
system: You are terse.
messages:
  - role: user
    content: What does this cost?
"""

# The API path's SDK stack, the attachment readers, the editor stack and the config converter.
NEVER_WITHOUT_A_KEY = ("anthropic", "httpx", "pydantic", "PIL", "pypdf", "cattrs", "pygls", "lsprotocol")

PROBE = (
    "import json, sys\n"
    "from promptls.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "print(json.dumps({'code': code, 'modules': sorted(sys.modules)}), file=sys.stderr)\n"
)


def _imports(tmp_path: Path, *args: str) -> set[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "PROMPTLS_"))}
    env |= {"PROMPTLS_CACHE_DIR": str(tmp_path / "cache"), "PROMPTLS_USER_CONFIG": str(tmp_path / "none.toml")}
    out = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=120)
    report = json.loads(out.stderr.strip().splitlines()[-1])
    assert report["code"] == 0, out.stdout + out.stderr
    return {name.split(".")[0] for name in report["modules"]}


def _project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    path = tmp_path / "one.prompt.yaml"
    path.write_text(PROMPT, encoding="utf-8")
    return path


def test_count_without_a_key_imports_no_sdk_no_readers_no_editor_stack(tmp_path: Path) -> None:
    path = _project(tmp_path)
    loaded = _imports(tmp_path, "count", str(path))  # mode auto, no key: offline
    assert not loaded & set(NEVER_WITHOUT_A_KEY), sorted(loaded & set(NEVER_WITHOUT_A_KEY))


def test_count_with_a_warm_memo_does_not_load_the_tokenizer(tmp_path: Path) -> None:
    """The second count of an unchanged file is answered by the text memo: ctok (~100 ms to import,
    plus its vocabulary) is never loaded."""
    path = _project(tmp_path)
    assert "ctok" in _imports(tmp_path, "count", "--mode", "offline", str(path))  # cold: it counts
    assert "ctok" not in _imports(tmp_path, "count", "--mode", "offline", str(path))


def test_no_config_file_no_toml_parser(tmp_path: Path) -> None:
    """tomllib is imported only to read a promptls.toml, pyproject.toml or user config that exists."""
    path = _project(tmp_path)
    assert "tomllib" not in _imports(tmp_path, "count", "--mode", "offline", str(path))
    (tmp_path / "promptls.toml").write_text("budget = 10\n", encoding="utf-8")
    assert "tomllib" in _imports(tmp_path, "count", "--mode", "offline", str(path))


def test_version_imports_no_engine(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    probe = PROBE.replace("code = main(sys.argv[1:])", "code = 0\ntry:\n    main(['--version'])\n"
                          "except SystemExit as exc:\n    code = exc.code or 0")
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=120)
    report = json.loads(out.stderr.strip().splitlines()[-1])
    assert report["code"] == 0 and out.stdout.startswith("promptls ")
    loaded = {name.split(".")[0] for name in report["modules"]} | set(report["modules"])
    assert not loaded & {*NEVER_WITHOUT_A_KEY, "yaml", "promptls.engine", "promptls.model"}


def test_version_names_ctok_without_importlib_metadata(tmp_path: Path) -> None:
    """`promptls --version` and every cold count ask which ctok is installed: the answer is the one
    `importlib.metadata` gives, without importing it (~75 ms of every start)."""
    probe = ("import json, sys\n"
             "from promptls.counting.tokenizer import _ctok_version\n"
             "found = _ctok_version()\n"
             "loaded = 'importlib.metadata' in sys.modules\n"
             "from importlib.metadata import version\n"
             "print(json.dumps([found, version('ctok'), loaded]))\n")
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120, check=True)
    found, expected, loaded = json.loads(out.stdout)
    assert found == expected
    assert not loaded


def test_the_language_server_starts_without_the_engine_or_the_hover_helpers(tmp_path: Path) -> None:
    """Everything the server imports before it answers `initialize` is cold-start time in the editor;
    the engine, YAML, the tokenizer and the hover's helpers (the `HEAD` comparison, caching lines)
    are imported by the warm-up thread instead, while the client is still starting up."""
    probe = ("import json, sys\n"
             "from promptls.lsp.server import create_server\n"
             "create_server()\n"
             "print(json.dumps(sorted(sys.modules)))\n")
    out = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120, check=True)
    loaded = set(json.loads(out.stdout))
    assert "pygls" in loaded  # the probe did start a server
    deferred = {"promptls.engine", "promptls.pipeline", "promptls.diff.head", "promptls.diff.run",
                "promptls.lsp.cachehover", "promptls.catalog", "yaml", "ctok", "tempfile", "sqlite3"}
    assert not loaded & deferred, sorted(loaded & deferred)

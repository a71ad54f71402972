"""The VS Code extension's side of the editor contract, and its real-VS-Code end-to-end run.

The manifest tests are cheap and always run. The end-to-end test needs code-server, Chromium and
node 24 (tests/editors/vscode/setup.sh, about 2-3 minutes cold), so it runs only when
PROMPTLS_VSCODE_E2E=1.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CLIENT = REPO / "client-vscode"
MANIFEST = json.loads((CLIENT / "package.json").read_text(encoding="utf-8"))

# docs/ARCHITECTURE.md, "Editor contract": the `promptls` section the server pulls.
SERVER_SETTINGS = {"mode", "model", "debounceMs", "requestsPerMinute", "budget", "budgets", "workspaceBudget", "hints"}


def test_every_server_setting_is_contributed_with_the_contract_defaults() -> None:
    props = MANIFEST["contributes"]["configuration"]["properties"]
    assert {f"promptls.{name}" for name in SERVER_SETTINGS} <= set(props)
    assert props["promptls.mode"]["enum"] == ["auto", "api", "offline"]
    assert props["promptls.hints"]["enum"] == ["all", "totals", "off"]
    assert props["promptls.debounceMs"]["default"] == 300
    assert props["promptls.requestsPerMinute"]["default"] == 50


def test_untrusted_workspaces_cannot_choose_the_server_binary() -> None:
    untrusted = MANIFEST["capabilities"]["untrustedWorkspaces"]
    assert untrusted["supported"] == "limited"
    assert set(untrusted["restrictedConfigurations"]) == {"promptls.server.path", "promptls.server.python"}


def test_prompt_files_stay_yaml_and_get_our_schema() -> None:
    contributes = MANIFEST["contributes"]
    assert "languages" not in contributes, "a new language id would detach the Red Hat YAML extension"
    (validation,) = contributes["yamlValidation"]
    assert set(validation["fileMatch"]) == {"*.prompt.yaml", "*.prompt.yml"}
    assert (CLIENT / validation["url"]).is_file()


def test_shipped_schema_copy_matches_the_server_schema() -> None:
    schema_module = pytest.importorskip("promptls.schema", reason="promptls.schema not built yet")
    shipped = json.loads((CLIENT / "schemas" / "prompt.schema.json").read_text(encoding="utf-8"))
    assert shipped == schema_module.json_schema(), "run `npm run schema` in client-vscode/ and commit the copy"


def test_commands_are_contributed() -> None:
    commands = {c["command"] for c in MANIFEST["contributes"]["commands"]}
    assert {
        "promptls.restartServer",
        "promptls.recountWorkspace",
        "promptls.setApiKey",
        "promptls.clearApiKey",
        "promptls.showOutput",
    } <= commands


@pytest.mark.editor
@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("PROMPTLS_VSCODE_E2E") != "1", reason="set PROMPTLS_VSCODE_E2E=1 (needs setup.sh)")
@pytest.mark.parametrize("flags", [[], ["--untrusted"]], ids=["trusted", "restricted-mode-offline"])
def test_real_vscode_shows_token_hints_budget_diagnostic_and_status(tmp_path: Path, flags: list[str]) -> None:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    shot = tmp_path / "vscode.png"
    run = subprocess.run(
        [str(REPO / "tests" / "editors" / "vscode" / "run.sh"), "--screenshot", str(shot), *flags],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, f"{run.stdout[-4000:]}\n{run.stderr[-4000:]}"
    result = next(line for line in run.stdout.splitlines() if line.startswith("E2E_RESULT "))
    data = json.loads(result.removeprefix("E2E_RESULT "))
    assert data["vscodeVersion"].startswith("1.")
    assert "tok" in data["renderedHint"]
    assert data["budgetDiagnostic"]
    assert shot.stat().st_size > 10_000

"""The VS Code extension's side of the editor contract, and its real-VS-Code end-to-end run.

The manifest tests are cheap and always run. The end-to-end test needs code-server, Chromium and
node 24 (tests/editors/vscode/setup.sh, about 2-3 minutes cold), so it runs only when
PROMPTLS_VSCODE_E2E=1.
"""

from __future__ import annotations

import json
import os
import re
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


def test_the_managed_environment_pins_this_release_of_promptls_and_a_uv() -> None:
    """The extension installs exactly the promptls it was tested with (and the e2e builds that wheel)."""
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pinned = MANIFEST["promptlsServer"]
    assert pinned["version"] == project["version"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned["uv"])
    assert "bundled/" in (CLIENT / ".gitignore").read_text(encoding="utf-8")


def test_commands_are_contributed() -> None:
    commands = {c["command"] for c in MANIFEST["contributes"]["commands"]}
    assert {
        "promptls.restartServer",
        "promptls.recountWorkspace",
        "promptls.setApiKey",
        "promptls.clearApiKey",
        "promptls.showOutput",
    } <= commands


E2E = pytest.mark.skipif(os.environ.get("PROMPTLS_VSCODE_E2E") != "1",
                         reason="set PROMPTLS_VSCODE_E2E=1 (needs setup.sh)")


VENV_PY = REPO / ".venv" / "bin" / "python"


def _npm(*args: str) -> None:
    run = subprocess.run(["npm", "run", "--silent", *args], cwd=CLIENT, capture_output=True, text=True,
                         timeout=600, check=False, env={**os.environ, "PYTHON": str(VENV_PY)})
    assert run.returncode == 0, f"npm run {' '.join(args)}:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The universal and the linux-x64 .vsix and the managed environment's wheelhouse, built once for
    every scenario (each build is what run.sh would do per scenario: about 90 s of CI saved)."""
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    out = tmp_path_factory.mktemp("vscode-build")
    if not (CLIENT / "node_modules").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=CLIENT, check=True,
                       timeout=600)
    _npm("package")
    universal = max(CLIENT.glob("promptls-0*.vsix"), key=lambda p: p.stat().st_mtime)
    _npm("package:target", "--", "linux-x64")
    paths = {"universal": out / universal.name, "platform": out / "promptls-linux-x64.vsix",
             "wheels": out / "wheels"}
    shutil.copy2(universal, paths["universal"])
    shutil.copy2(CLIENT / "promptls-linux-x64.vsix", paths["platform"])
    wheelhouse = REPO / "tests" / "editors" / "wheelhouse.sh"
    run = subprocess.run([str(wheelhouse), str(VENV_PY), str(paths["wheels"])], capture_output=True,
                         text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    return paths


def run_e2e(tmp_path: Path, built: dict[str, Path], *flags: str) -> dict:
    scenario = flags[flags.index("--scenario") + 1] if "--scenario" in flags else "setting"
    prebuilt = ["--vsix", str(built["universal" if scenario == "setting" else "platform"])]
    if scenario == "managed":
        prebuilt += ["--wheels", str(built["wheels"])]
    shot = tmp_path / "vscode.png"
    run = subprocess.run(
        [str(REPO / "tests" / "editors" / "vscode" / "run.sh"), "--screenshot", str(shot), *prebuilt, *flags],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, f"{run.stdout[-4000:]}\n{run.stderr[-4000:]}"
    result = next(line for line in run.stdout.splitlines() if line.startswith("E2E_RESULT "))
    data = json.loads(result.removeprefix("E2E_RESULT "))
    assert data["vscodeVersion"].startswith("1.")
    assert shot.stat().st_size > 10_000
    return data


@pytest.mark.editor
@pytest.mark.slow
@E2E
@pytest.mark.parametrize(
    ("flags", "source", "state"),
    [
        ([], "setting", None),
        (["--scenario", "managed"], "managed", "no-key"),
        (["--scenario", "managed", "--untrusted"], "managed", "offline"),
    ],
    ids=["server-path-setting", "managed-env-first-open", "managed-env-restricted-mode-offline"],
)
def test_real_vscode_shows_token_hints_budget_diagnostic_and_status(
    tmp_path: Path, built: dict[str, Path], flags: list[str], source: str, state: str | None
) -> None:
    """managed: no promptls on the extension host's PATH and no interpreter setting; the platform .vsix
    makes its environment with the bundled uv from a local wheelhouse (offline) on first open."""
    data = run_e2e(tmp_path, built, *flags)
    assert "tok" in data["renderedHint"]
    assert data["budgetDiagnostic"]
    assert data["server"]["source"] == source
    if state is not None:
        assert data["state"] == state
    # The budget, not the window share, when a file has one: "≈ 346 / 300 budget" and the Σ hint says so.
    assert " budget" in data["statusBar"]
    assert any(h.split(":", 1)[1].startswith("Σ") and "budget ⚠" in h for h in data["hints"])
    if source == "managed":
        assert any(p.startswith("installing promptls") for p in data["progress"])


@pytest.mark.editor
@pytest.mark.slow
@E2E
def test_real_vscode_not_found_names_every_candidate_and_fixes_in_one_click(
    tmp_path: Path, built: dict[str, Path]
) -> None:
    """Nothing installable, only a Python 3.11 on PATH: the toast names each candidate and why (run.sh
    and drive.cjs also click Open Settings -> Remote tab, and the status bar item -> the same message)."""
    data = run_e2e(tmp_path, built, "--scenario", "not-found")
    failure = data["failure"]
    assert "`promptls` on PATH: not found on PATH=" in failure
    assert "it is Python 3.11" in failure and "needs 3.12+" in failure
    assert "the managed environment: uv could not create it" in failure
    assert data["settingsTab"].startswith("Remote")

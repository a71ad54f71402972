"""The settings are declared once (config.FIELDS); the editor contract, the VS Code extension's
package.json and settings.ts, and the server's reading of editor values all follow that table."""

from __future__ import annotations

import json
import re
import typing
from pathlib import Path

import pytest

from promptls.config import EDITOR_KEYS, FIELDS, Config, Trust, load_config
from promptls.lsp.settings import Settings

REPO = Path(__file__).resolve().parent.parent
PROPS = json.loads((REPO / "client-vscode" / "package.json").read_text(encoding="utf-8"))[
    "contributes"]["configuration"]["properties"]
EDITOR_FIELDS = [f for f in FIELDS if f.editor is not None]


def test_package_json_contributes_every_editor_setting_with_the_tables_default_and_values() -> None:
    for f in EDITOR_FIELDS:
        prop = PROPS[f"promptls.{f.editor}"]
        default = f.default
        if isinstance(default, tuple):  # a table (budgets) or a list (compareModels), empty by default
            default = [] if prop["type"] == "array" else {}
        assert prop["default"] == ("" if default is None and prop["type"] == "string" else default), f.editor
        if typing.get_origin(f.type) is typing.Literal:
            assert prop["enum"] == list(typing.get_args(f.type)), f.editor
        assert prop["description"], f.editor
    server_side = {k.removeprefix("promptls.") for k in PROPS if not k.startswith(("promptls.server.",
                                                                                     "promptls.trace."))}
    assert server_side == set(EDITOR_KEYS), "package.json and config.FIELDS disagree on the editor keys"


def test_the_clients_key_list_is_the_tables() -> None:
    source = (REPO / "client-vscode" / "src" / "settings.ts").read_text(encoding="utf-8")
    block = re.search(r"SERVER_SETTING_KEYS = \[(.*?)\]", source, re.S)
    assert block is not None
    assert sorted(re.findall(r'"(\w+)"', block.group(1))) == sorted(EDITOR_KEYS)


def test_the_editor_contract_documents_every_editor_key() -> None:
    contract = (REPO / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8").split("## Editor contract")[1]
    for key in EDITOR_KEYS:
        assert f"`{key}`" in contract, key


def test_user_only_keys_are_never_editor_keys_of_a_workspace() -> None:
    user_only = {f.toml for f in FIELDS if f.trust is Trust.USER_ONLY}
    assert user_only == {"base_url", "allow_attachments_from"}
    assert not any(f.editor for f in FIELDS if f.trust is Trust.USER_ONLY)


@pytest.mark.parametrize(("value", "ok"), [(7, True), (0, False), (-1, False), (True, False), ("7", False)])
def test_the_file_and_the_editor_accept_the_same_values(tmp_path: Path, value: object, ok: bool) -> None:
    (tmp_path / "promptls.toml").write_text(f"budget = {json.dumps(value)}\n")
    from_file, findings = load_config(tmp_path)
    from_editor, problems = Config(root=tmp_path).apply_editor({"budget": value})
    assert (from_file.budget == 7, from_editor.budget == 7) == (ok, ok)
    assert bool(findings) == bool(problems) == (not ok)
    if not ok:
        assert problems == ["setting `promptls.budget` must be a positive integer; ignored"]


def test_editor_settings_apply_per_workspace_folder(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        (folder / ".git").mkdir(parents=True)
    settings = Settings()
    settings.editor = {"budget": 1}
    settings.folders = {a.resolve(): {"budget": 100, "hints": "totals"}}
    assert settings.config_for(a / "x.prompt.yaml").budget == 100
    assert settings.config_for(a / "x.prompt.yaml").hints == "totals"
    assert settings.config_for(b / "x.prompt.yaml").budget == 1  # outside every folder: the unscoped answer

"""Workspace settings: promptls.toml, [tool.promptls], editor settings, bad values as findings."""

from pathlib import Path

from promptls.config import Config, GlobBudget, find_root, load_config


def test_promptls_toml_is_read(tmp_path: Path) -> None:
    (tmp_path / "promptls.toml").write_text(
        'default_model = "claude-opus-4-8"\nmode = "offline"\nworkspace_budget = 1000\n'
        'requests_per_minute = 20\n[budgets]\n"support/*.prompt.yaml" = 500\n')
    cfg, findings = load_config(tmp_path)
    assert findings == []
    assert cfg.default_model == "claude-opus-4-8"
    assert cfg.mode == "offline"
    assert cfg.workspace_budget == 1000
    assert cfg.requests_per_minute == 20
    assert cfg.budgets == (GlobBudget("support/*.prompt.yaml", 500),)
    assert [b.input_tokens for b in cfg.budgets_for(tmp_path / "support" / "a.prompt.yaml")] == [500]
    assert cfg.budgets_for(tmp_path / "other" / "a.prompt.yaml") == []


def test_pyproject_tool_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname="x"\n[tool.promptls]\nbudget = 42\n')
    cfg, findings = load_config(tmp_path)
    assert findings == [] and cfg.budget == 42


def test_bad_values_become_located_findings_and_defaults_stay(tmp_path: Path) -> None:
    (tmp_path / "promptls.toml").write_text('mode = "sometimes"\nbudget = -3\nfrobnicate = 1\n')
    cfg, findings = load_config(tmp_path)
    assert cfg.mode == "auto" and cfg.budget is None
    by_code = {f.code: f for f in findings}
    assert by_code["config-invalid"].span.start.line in (0, 1)
    assert "mode" in findings[0].message
    assert by_code["config-unknown-key"].span.start.line == 2


def test_broken_toml_is_a_finding_with_position(tmp_path: Path) -> None:
    (tmp_path / "promptls.toml").write_text('budget = 10\nmode = \n')
    cfg, findings = load_config(tmp_path)
    assert cfg.budget is None
    assert findings and findings[0].span.start.line == 1


def test_editor_settings_override_file(tmp_path: Path) -> None:
    cfg = Config(root=tmp_path, budget=100)
    merged = cfg.with_editor_settings({"budget": 7, "debounceMs": 50, "budgets": {"*.prompt.yaml": 9},
                                       "mode": "bogus"})
    assert merged.budget == 7 and merged.debounce_ms == 50 and merged.mode == "auto"
    assert merged.budgets == (GlobBudget("*.prompt.yaml", 9),)


def test_find_root_prefers_nearest_marker(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    (tmp_path / "a" / "promptls.toml").write_text("")
    assert find_root(sub / "x.prompt.yaml") == (tmp_path / "a").resolve()

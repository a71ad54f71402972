"""Shared pytest wiring: the fake count_tokens endpoint fixtures, and CI's rule that editor tests run."""

from __future__ import annotations

import os
import tempfile

import pytest

pytest_plugins = ["tests.conftest_api"]

# Every promptls process the tests start (CLI, servers, editors) caches in a throwaway folder, never in
# the user's cache directory; tests that need their own cache set PROMPTLS_CACHE_DIR themselves.
os.environ.setdefault("PROMPTLS_CACHE_DIR", tempfile.mkdtemp(prefix="promptls-test-cache-"))
# ... and reads no user config file (the developer's own ~/.config/promptls) unless a test writes one.
os.environ.setdefault("PROMPTLS_USER_CONFIG", os.path.join(os.environ["PROMPTLS_CACHE_DIR"], "no-user-config.toml"))

# Tests that drive a real editor. Locally they skip when the editor is missing; in CI
# (PROMPTLS_REQUIRE_EDITORS=1, set by .ci/run after installing them) a skip is a failure.
EDITOR_TESTS = ("test_neovim_shows_hints_and_budget_warning",
                "test_real_vscode_shows_token_hints_budget_diagnostic_and_status")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if (report.skipped and item.name in EDITOR_TESTS and os.environ.get("PROMPTLS_REQUIRE_EDITORS") == "1"):
        report.outcome = "failed"
        report.longrepr = f"{item.name} was skipped but CI requires the real editors: {report.longrepr}"
    return report

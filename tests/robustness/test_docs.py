"""docs/security.md says where the key goes (issue 11, item 11): every route the CLI sends it on, as the
fake endpoint records them, is named in "What is sent where"."""

from __future__ import annotations

import os
import subprocess
import sys
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from tests.fakeapi import CANARY_KEY, FakeAnthropic

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"


class Recording(FakeAnthropic):
    """Records the method and path of every request that carries the key."""

    def __init__(self) -> None:
        super().__init__(CANARY_KEY)
        self.routes: set[str] = set()
        self.models = [{"id": "claude-sonnet-4-6", "max_input_tokens": 1_000_000, "max_tokens": 64_000}]

    def _authorized(self, h: BaseHTTPRequestHandler) -> bool:
        if CANARY_KEY in (h.headers.get("authorization", "") + h.headers.get("x-api-key", "")):
            self.routes.add(f"{h.command} {h.path.split('?')[0]}")
        return super()._authorized(h)


def test_security_doc_names_every_route_the_key_goes_to(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    (root / ".git").mkdir(parents=True)
    (root / "a.prompt.yaml").write_text("messages:\n  - role: user\n    content: Hello.\n", encoding="utf-8")
    fake = Recording().start()
    try:
        env = {**os.environ, "ANTHROPIC_API_KEY": CANARY_KEY, "ANTHROPIC_BASE_URL": fake.url,
               "PROMPTLS_CACHE_DIR": str(tmp_path / "cache")}
        out = subprocess.run([sys.executable, "-m", "promptls", "count", str(root)], capture_output=True,
                             text=True, env=env, timeout=120, cwd=root)
    finally:
        fake.stop()
    assert out.returncode == 0, out.stderr
    assert fake.routes >= {"POST /v1/messages/count_tokens", "GET /v1/models"}, fake.routes
    promises = DOC.read_text(encoding="utf-8").split("**What is sent where.**")[1].split("\n- **")[0]
    for route in sorted(fake.routes):
        assert f"`{route}`" in promises, f"docs/security.md does not say the key goes to {route}"

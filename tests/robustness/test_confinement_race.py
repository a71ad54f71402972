"""A folder swapped for a symlink between the confinement check and the open cannot lead outside the
root (issue 11, item 5): every component below the root is opened with O_NOFOLLOW | O_DIRECTORY."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

from promptls.attachments import clear_cache, load_attachment
from promptls.model import FILE_START

SECRET = "OUTSIDE-RACE-SECRET-3c81"
RUN_S = 8.0  # the old code leaked about 1 load in 430 under this swap: thousands of loads run here


def test_swapping_a_folder_for_a_link_never_leaks(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "a.txt").write_text(SECRET, encoding="utf-8")
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "a.txt").write_text("inside the project", encoding="utf-8")
    stop = threading.Event()
    swaps = 0

    def swapper() -> None:
        nonlocal swaps
        sub, parked = root / "sub", root / "parked"
        while not stop.is_set():
            os.rename(sub, parked)
            os.symlink(outside, sub)  # the same name now leads outside
            os.unlink(sub)
            os.rename(parked, sub)
            swaps += 1

    thread = threading.Thread(target=swapper, daemon=True)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # interleave the two threads finely: many more check/open windows
    thread.start()
    loads = leaks = inside = 0
    deadline = time.monotonic() + RUN_S
    try:
        while time.monotonic() < deadline:
            clear_cache()  # every load goes to the disk
            att = load_attachment("sub/a.txt", base_dir=root, root=root, span=FILE_START)
            loads += 1
            if SECRET in (att.text or ""):
                leaks += 1
            elif att.text == "inside the project":
                inside += 1
    finally:
        stop.set()
        thread.join(timeout=5)
        sys.setswitchinterval(interval)
    assert leaks == 0, f"{leaks} of {loads} loads read the file outside the root"
    assert swaps > 100 and inside > 20, (swaps, inside, loads)  # the race really ran, and loads still work

"""Nothing from the checkout is imported: the folder promptls runs in is taken off `sys.path`.

`python -m promptls` (how editors launch the server) and `python -c` (how multiprocessing starts spawn
workers) put the current folder first on `sys.path`; in a cloned repository a `multiprocessing/` or
`json.py` there would then run as promptls. The entry points call `drop_cwd()` before importing
anything else, and worker processes are started with `PYTHONSAFEPATH` set so they never add it.
"""

from __future__ import annotations

import os
import sys


def drop_cwd() -> None:
    """Remove the entry `-m`/`-c` put first on sys.path (the current folder), unless `-P`/`-I` did already."""
    if sys.flags.safe_path or not sys.path:
        return
    try:
        cwd = os.getcwd()
    except OSError:
        cwd = None
    if sys.path[0] in ("", ".", cwd):
        del sys.path[0]


def spawn_context():  # -> multiprocessing.context.SpawnContext (imported lazily: ~10 ms)
    """A spawn context whose workers run without the current folder on sys.path (safe-path mode).

    Spawned workers start as `python -c ...` and then take the parent's sys.path, so the parent must be
    clean too (`drop_cwd`); `PYTHONSAFEPATH` reaches every process started from here on, which is wanted.
    """
    import multiprocessing

    os.environ["PYTHONSAFEPATH"] = "1"
    return multiprocessing.get_context("spawn")

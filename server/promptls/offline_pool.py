"""Worker processes for estimating many files at once: `promptls check` and the server's cold index.

Offline analysis is CPU-bound Python (YAML, the request, the tokenizer), so a large workspace is
split into chunks and estimated in one spawned process per core. Workers are started with the spawn
method (forking a process that has threads, as the server and test runners do, can deadlock) and in
safe-path mode, so nothing in the folder promptls runs in is ever imported (`safepath.py`). Each
worker uses the persistent text memo, so what it tokenized is not tokenized again by the parent.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from .config import Config
    from .counting.cache import CountCache
    from .model import FileReport

T = TypeVar("T")
R = TypeVar("R")

PARALLEL_MIN_FILES = 200  # below this, starting workers (imports, vocabulary) costs more than it saves
MAX_WORKERS = 8
CHUNKS_PER_WORKER = 8  # small enough for even load and progress, large enough to amortise pickling


def worker_count() -> int:
    return min(os.cpu_count() or 1, MAX_WORKERS)


def pays(files: int) -> bool:
    """Whether `files` files are worth starting workers for."""
    return files >= PARALLEL_MIN_FILES and worker_count() >= 2


def split[T](items: Sequence[T], workers: int) -> list[list[T]]:
    size = max(1, len(items) // (workers * CHUNKS_PER_WORKER))
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


_store_open = False


def _run_chunk[T, R](fn: Callable[[T], R], items: list[T]) -> list[R]:
    """In a worker: `fn` over one chunk, with the persistent text memo (opened once per worker)
    flushed before returning."""
    global _store_open
    from .counting.estimate import flush_store, use_store

    if not _store_open:
        from .counting.textcache import open_default

        use_store(open_default())
        _store_open = True
    try:
        return [fn(item) for item in items]
    finally:
        flush_store()


class OfflinePool:
    """One process per core (spawned, safe-path); `fn` must be a module-level function (or a partial
    of one) so it can be pickled by name."""

    def __init__(self, workers: int | None = None) -> None:
        from concurrent.futures import ProcessPoolExecutor

        from .safepath import spawn_context

        self.workers = workers or worker_count()
        self._pool: ProcessPoolExecutor = ProcessPoolExecutor(self.workers, mp_context=spawn_context())

    def submit(self, fn: Callable[[T], R], items: Sequence[T]) -> list[tuple[list[T], Future[list[R]]]]:
        """Each chunk of `items` with the future of its results (in the chunk's order)."""
        return [(chunk, self._pool.submit(_run_chunk, fn, chunk)) for chunk in split(items, self.workers)]

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> Iterator[list[R]]:
        """Results chunk by chunk, in the order of `items`."""
        for _, future in self.submit(fn, items):
            yield future.result()

    def close(self, cancel: bool = False) -> None:
        """Wait for the workers to exit (they are reaped, so their CPU time is accounted to us)."""
        self._pool.shutdown(wait=True, cancel_futures=cancel)

    def __enter__(self) -> OfflinePool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close(cancel=exc[0] is not None)


# -- the CLI's worker function ----------------------------------------------------------------------

_caches: dict[str, CountCache] = {}


def worker_cache(endpoint: str) -> CountCache:
    """The count cache (the estimator's corrections) for `endpoint`, opened once per worker process:
    SQLite connections do not cross processes."""
    if endpoint not in _caches:
        from .counting.cache import CountCache

        _caches[endpoint] = CountCache(endpoint=endpoint)
    return _caches[endpoint]


def offline_report(path: Path, config: Config) -> FileReport:
    """`check`'s estimate of one file, in a worker (corrections for the endpoint the config names)."""
    from .counting.endpoint import endpoint_id, resolve_base_url
    from .pipeline import offline_report as report

    return report(path, config, worker_cache(endpoint_id(resolve_base_url(config.base_url))))

"""The engine thread's order: an open document's run is never queued behind background work."""

import asyncio
import threading

import pytest

from promptls.lsp.runner import BACKGROUND, EDITING, EngineThread, Runner

WAIT_S = 10


def _blocked(engine: EngineThread) -> threading.Event:
    """Occupy the engine thread until the returned event is set (and wait until it has started)."""
    release, started = threading.Event(), threading.Event()

    def job() -> None:
        started.set()
        release.wait(WAIT_S)

    engine.submit(EDITING, job)
    assert started.wait(WAIT_S)
    return release


def test_editing_jobs_go_before_queued_background_jobs() -> None:
    engine = EngineThread("test-engine")
    order: list[str] = []
    release = _blocked(engine)
    futures = [engine.submit(BACKGROUND, order.append, "index a"), engine.submit(BACKGROUND, order.append, "index b"),
               engine.submit(EDITING, order.append, "keystroke 1"), engine.submit(EDITING, order.append, "keystroke 2")]
    release.set()
    for f in futures:
        f.result(WAIT_S)
    assert order == ["keystroke 1", "keystroke 2", "index a", "index b"]
    engine.shutdown()


def test_no_background_job_starts_while_a_foreground_run_holds_the_thread() -> None:
    engine = EngineThread("test-engine")
    engine.hold()
    background = engine.submit(BACKGROUND, lambda: "indexed")
    assert engine.submit(EDITING, lambda: "estimated").result(WAIT_S) == "estimated"
    assert not background.done()  # the run is still in flight (its loop steps, its publication)
    engine.release()
    assert background.result(WAIT_S) == "indexed"
    engine.shutdown()


def test_background_work_waits_out_the_grace_after_a_foreground_run() -> None:
    """The editor asks for hints, lenses and hovers right after a publication: background work stays
    out of their way for a moment after the run that published."""
    engine = EngineThread("test-engine", grace_s=60)
    engine.hold()
    engine.release()
    background = engine.submit(BACKGROUND, lambda: "indexed")
    assert engine.submit(EDITING, lambda: "hints").result(WAIT_S) == "hints"
    assert not background.done()
    engine.shutdown()
    assert background.cancelled()


def test_a_job_cancelled_before_it_starts_is_skipped_and_errors_reach_the_caller() -> None:
    engine = EngineThread("test-engine")
    ran: list[str] = []
    release = _blocked(engine)
    superseded = engine.submit(EDITING, ran.append, "old keystroke")
    assert superseded.cancel()
    failing = engine.submit(EDITING, lambda: 1 / 0)
    release.set()
    with pytest.raises(ZeroDivisionError):
        failing.result(WAIT_S)
    assert ran == []
    engine.shutdown()


def test_shutdown_cancels_what_has_not_started() -> None:
    engine = EngineThread("test-engine")
    release = _blocked(engine)
    queued = engine.submit(BACKGROUND, lambda: None)
    engine.shutdown()
    release.set()
    assert queued.cancelled()
    with pytest.raises(RuntimeError):
        engine.submit(EDITING, lambda: None)


async def test_a_cancelled_run_drops_its_queued_engine_call() -> None:
    """A newer keystroke cancels the older run's task; its engine call, not started yet, never runs."""
    runner = Runner()
    ran: list[str] = []
    release = _blocked(runner._engine)
    old = asyncio.create_task(runner.call(ran.append, "old"))
    await asyncio.sleep(0)  # the call is queued
    old.cancel()
    await asyncio.gather(old, return_exceptions=True)  # the cancellation has reached the engine thread's queue
    new = runner.call(ran.append, "new")
    release.set()
    await asyncio.wait_for(new, WAIT_S)
    assert ran == ["new"]
    runner.shutdown()

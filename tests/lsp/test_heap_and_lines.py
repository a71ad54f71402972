"""Small pieces behind edit latency: freezing long-lived objects after a full collection, and the
fast line split (which must agree with LSP's definition of a line break)."""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from promptls.lsp import heap
from promptls.lsp.positions import split_lines


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_survivors_of_a_full_collection_are_frozen_once(unfrozen: None) -> None:
    heap.install()
    heap.install()
    assert gc.callbacks.count(heap._note) == 1
    heap.settle()  # forget full passes seen before this test
    gc.unfreeze()
    heap.settle()
    assert gc.get_freeze_count() == 0  # no full pass seen since the last settle: nothing to do
    long_lived = [[i] for i in range(1000)]
    gc.collect()
    heap.settle()
    frozen = gc.get_freeze_count()
    assert frozen >= len(long_lived)
    gc.collect(0)  # a young-generation pass is no reason to freeze again
    heap.settle()
    assert gc.get_freeze_count() == frozen


def test_settle_with_collect_freezes_at_once(unfrozen: None) -> None:
    heap.settle(collect=True)
    assert gc.get_freeze_count() > 0


@given(st.text(alphabet="ab\r\n\u2028 "))
def test_split_lines_counts_lsp_line_breaks(text: str) -> None:
    assert split_lines(text) == re.split(r"\r\n|\r|\n", text)

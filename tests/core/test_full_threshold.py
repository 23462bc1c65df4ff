"""The oldest generation's threshold, shared by hyperdeme's holders and the application."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from hyperdeme._core._full_threshold import raised_full_threshold
from hyperdeme._core._heap import DEFERRED_THRESHOLD, full_collections_deferred
from hyperdeme._engine._collections import FULL_EVERY, fewer_full_collections


@pytest.fixture(autouse=True)
def threshold() -> Iterator[tuple[int, int, int]]:
    before = gc.get_threshold()
    gc.set_threshold(before[0], before[1], 10)
    yield gc.get_threshold()
    gc.set_threshold(*before)


def full() -> int:
    return gc.get_threshold()[2]


def test_overlapping_holders_take_the_highest_and_the_last_puts_the_application_s_back() -> None:
    """A run (100) and a read beside it (deferred) in either order of ending: while both
    hold, the higher; once both left, the application's 10 again."""
    run = fewer_full_collections()
    read = full_collections_deferred()
    run.__enter__()
    assert full() == FULL_EVERY
    read.__enter__()
    assert full() == DEFERRED_THRESHOLD
    run.__exit__(None, None, None)  # the run ends first, the read goes on
    assert full() == DEFERRED_THRESHOLD
    read.__exit__(None, None, None)
    assert full() == 10
    with full_collections_deferred():
        with fewer_full_collections():
            assert full() == DEFERRED_THRESHOLD
        assert full() == DEFERRED_THRESHOLD  # the read still holds
    assert full() == 10


def test_a_value_the_application_sets_meanwhile_is_its_own_from_then_on() -> None:
    young, middle, _ = gc.get_threshold()
    with raised_full_threshold(100):
        gc.set_threshold(young, middle, 500)  # higher: kept while held
        with raised_full_threshold(50):
            assert full() == 500
        assert full() == 500
    assert full() == 500  # and not replaced by the 10 it had before
    with raised_full_threshold(100):
        gc.set_threshold(young, middle, 20)  # lower: the holder's 100 applies again ...
        with raised_full_threshold(30):
            assert full() == 100
    assert full() == 20  # ... and the application's 20 is put back


def test_an_error_inside_still_puts_it_back() -> None:
    with pytest.raises(RuntimeError), raised_full_threshold(100):
        raise RuntimeError("boom")
    assert full() == 10

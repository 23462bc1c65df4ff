"""Keeping a replay out of the cyclic GC's walks (hyperdeme._core._heap): full
collections wait during the replay, what it built is frozen for the run, and the
last run to end unfreezes, unless the application had frozen objects itself."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from hyperdeme._core._heap import DEFERRED_THRESHOLD, full_collections_deferred, replay_heap


@pytest.fixture(autouse=True)
def collector() -> Iterator[tuple[int, int, int]]:
    """Nothing frozen before; the thresholds as they were after."""
    gc.unfreeze()
    thresholds = gc.get_threshold()
    yield thresholds
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_full_collections_wait_for_the_replay_which_is_then_frozen_until_the_run_ends(
    collector: tuple[int, int, int],
) -> None:
    with replay_heap() as heap:
        assert gc.get_threshold() == (*collector[:2], DEFERRED_THRESHOLD)
        built = [{"trial": n, "params": {"x": [n]}} for n in range(1000)]
        heap.replayed()
        assert gc.get_threshold() == collector  # full collections run again
        assert gc.get_freeze_count() >= len(built)  # not walked by them during the run
        heap.replayed()  # once: nothing more frozen, the threshold untouched
        assert gc.get_threshold() == collector
    assert gc.get_freeze_count() == 0


def test_a_run_with_nothing_replayed_freezes_nothing(collector: tuple[int, int, int]) -> None:
    with replay_heap() as heap:
        heap.replayed(freeze=False)
        assert gc.get_freeze_count() == 0
        assert gc.get_threshold() == collector
    with replay_heap():
        pass  # left before replaying (an error): the threshold is given back
    assert gc.get_threshold() == collector
    assert gc.get_freeze_count() == 0


def test_the_last_of_two_runs_to_end_unfreezes(collector: tuple[int, int, int]) -> None:
    with replay_heap() as first:
        with replay_heap() as second:
            assert gc.get_threshold()[2] == DEFERRED_THRESHOLD
            first.replayed()
            assert gc.get_threshold()[2] == DEFERRED_THRESHOLD  # the second still replays
            second.replayed()
            assert gc.get_threshold() == collector
        assert gc.get_freeze_count() > 0  # the first still runs
    assert gc.get_freeze_count() == 0


def test_objects_the_application_froze_stay_frozen() -> None:
    gc.freeze()  # an application that forks workers
    frozen = gc.get_freeze_count()
    with replay_heap() as heap:
        heap.replayed()
    assert gc.get_freeze_count() >= frozen


def test_a_read_defers_full_collections_and_freezes_nothing(
    collector: tuple[int, int, int],
) -> None:
    with full_collections_deferred():
        assert gc.get_threshold() == (*collector[:2], DEFERRED_THRESHOLD)
        with replay_heap() as heap:  # a run's replay while the read goes on
            heap.replayed(freeze=False)
            assert gc.get_threshold()[2] == DEFERRED_THRESHOLD  # the read still reads
        assert gc.get_threshold()[2] == DEFERRED_THRESHOLD
    assert gc.get_threshold() == collector
    assert gc.get_freeze_count() == 0  # what a read built is the caller's: never frozen
    with pytest.raises(RuntimeError), full_collections_deferred():
        raise RuntimeError("a read that fails")
    assert gc.get_threshold() == collector

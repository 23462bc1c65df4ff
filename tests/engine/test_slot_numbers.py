"""``SlotNumbers``: the lowest number no running trial holds, in O(log slots)."""

from __future__ import annotations

import random

from hyperdeme._engine._slot_numbers import SlotNumbers


def test_numbers_are_handed_out_from_zero_up() -> None:
    numbers = SlotNumbers()
    assert [numbers.take() for _ in range(4)] == [0, 1, 2, 3]


def test_the_lowest_number_given_back_comes_first() -> None:
    numbers = SlotNumbers()
    for _ in range(5):
        numbers.take()
    numbers.give_back(3)
    numbers.give_back(1)
    assert numbers.take() == 1
    assert numbers.take() == 3
    assert numbers.take() == 5  # none free below: a new one


def test_it_is_always_the_lowest_number_not_held() -> None:
    numbers, held, draw = SlotNumbers(), set[int](), random.Random(7)
    for _ in range(2000):
        if held and draw.random() < 0.5:
            number = draw.choice(sorted(held))
            held.remove(number)
            numbers.give_back(number)
        else:
            lowest = min(set(range(len(held) + 1)) - held)
            number = numbers.take()
            assert number == lowest
            held.add(number)

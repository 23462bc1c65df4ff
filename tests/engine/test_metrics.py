"""Finding figures of merit in a program's output, chunk by chunk."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hyperdeme import ConfigError
from hyperdeme._engine._metrics import MetricScanner, MetricSpec


def scan(metric: str | dict[str, float], chunks: Iterable[bytes]) -> dict[str, float]:
    scanner = MetricSpec(metric).scanner()
    for chunk in chunks:
        scanner.feed(chunk)
    return scanner.close()


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("FoM: 3\n", 3.0),
        ("FoM: -12\n", -12.0),
        ("FoM: +0.5\n", 0.5),
        ("FoM: 0.125\n", 0.125),
        ("FoM: .5\n", 0.5),
        ("FoM: 2.\n", 2.0),
        ("FoM: 1e-3\n", 1e-3),
        ("FoM: 1e-3,\n", 1e-3),
        ("FoM:  -inf\n", -math.inf),
        ("FoM: 6.02E+23\n", 6.02e23),
        ("FoM: -2.5e10 (epoch 3)\n", -2.5e10),
        ("FoM: inf\n", math.inf),
        ("FoM: -Infinity\n", -math.inf),
        ("FoM: 7", 7.0),  # no newline at the end of the output
        ("epoch 1\nFoM:   42  \n", 42.0),
    ],
)
def test_numbers_in_every_common_form(text: str, value: float) -> None:
    assert scan("FoM: ", [text.encode()]) == {"FoM": value}


def test_nan_is_read_but_is_no_figure_of_merit() -> None:
    spec = MetricSpec("FoM: ")
    metrics = scan("FoM: ", [b"FoM: nan\n"])
    assert math.isnan(metrics["FoM"])
    assert spec.fom(metrics) is None


def test_the_last_occurrence_wins() -> None:
    output = b"FoM: 9\nFoM: 5\nother 1\nFoM: 3\nFoM: not a number\n"
    assert scan("FoM: ", [output]) == {"FoM": 3.0}


def test_the_last_occurrence_wins_across_chunks() -> None:
    assert scan("FoM: ", [b"FoM: 9\n", b"noise\n", b"FoM: 4\nmore noise\n"]) == {"FoM": 4.0}


def test_missing_metric_gives_no_value() -> None:
    spec = MetricSpec("FoM: ")
    metrics = scan("FoM: ", [b"training...\nloss 3\n"])
    assert metrics == {}
    assert spec.fom(metrics) is None


def test_a_custom_prefix_names_the_metric() -> None:
    assert scan("accuracy=", [b"accuracy=0.93\n"]) == {"accuracy": 0.93}


def test_weighted_metrics_are_summed() -> None:
    spec = MetricSpec({"loss": 0.7, "time": 0.3})
    metrics = scan({"loss": 0.7, "time": 0.3}, [b"loss: 2.0\ntime=10\nloss 1.0\n"])
    assert metrics == {"loss": 1.0, "time": 10.0}
    assert spec.fom(metrics) == pytest.approx(0.7 * 1.0 + 0.3 * 10.0)


def test_a_negative_weight_maximizes_that_metric() -> None:
    spec = MetricSpec({"accuracy": -1.0, "time": 0.01})
    better = spec.fom({"accuracy": 0.9, "time": 10.0})
    worse = spec.fom({"accuracy": 0.5, "time": 10.0})
    assert better is not None
    assert worse is not None
    assert better < worse


def test_a_name_must_be_a_whole_word() -> None:
    metrics = scan({"loss": 1.0}, [b"val_loss: 9\nloss_avg: 8\nloss: 1.5\nmyloss 7\n"])
    assert metrics == {"loss": 1.5}


def test_a_name_is_not_the_start_of_a_longer_name() -> None:
    """``acc`` is not read from ``acc5: 0.93`` (as 5) when both are printed."""
    assert scan({"acc": 1.0}, [b"acc: 0.71 acc5: 0.93\n"]) == {"acc": 0.71}
    assert scan({"loss": 1.0}, [b"loss: 0.5\nloss2= 3\n"]) == {"loss": 0.5}


def test_carriage_returns_end_lines_for_progress_bars() -> None:
    """A FoM followed by a long ``\r``-redrawn progress bar without a newline is kept."""
    chunks = [b"FoM: 0.5\r", *[b"[=====>    ] 50% eta 3s\r"] * 20_000]
    assert scan("FoM: ", chunks) == {"FoM": 0.5}
    assert scan({"loss": 1.0}, [b"1/10 loss: 0.9\r2/10 loss: 0.7\r"]) == {"loss": 0.7}


@pytest.mark.parametrize("text", ["FoM: information\n", "FoM: nanny\n", "FoM: infinityx\n"])
def test_words_starting_like_inf_or_nan_are_no_numbers(text: str) -> None:
    assert scan("FoM: ", [text.encode()]) == {}


def test_weighted_sum_needs_every_metric() -> None:
    spec = MetricSpec({"loss": 1.0, "time": 1.0})
    assert spec.fom(scan({"loss": 1.0, "time": 1.0}, [b"loss: 1\n"])) is None


def test_output_without_newlines_keeps_memory_bounded() -> None:
    scanner = MetricSpec("FoM: ").scanner()
    for _ in range(64):
        scanner.feed(b"x" * (1 << 16))
    assert len(scanner._carry) <= 1 << 17
    scanner.feed(b"FoM: 1.5")
    assert scanner.close() == {"FoM": 1.5}


MIB = 1 << 20
NOISE = b"[=====>    ] 50% eta 3s loss 0.3 step 12 "  # no newline, no "FoM: "


def noise(size: int) -> bytes:
    return (NOISE * (size // len(NOISE) + 1))[:size]


def pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("size", [3, 4096, 65_535, 65_537, 100_003, MIB, 3 * MIB])
@pytest.mark.parametrize("before", [0, 10, 61_440, 65_530, 65_536, 131_000])
def test_a_metric_followed_by_a_mebibyte_without_newline_is_kept(size: int, before: int) -> None:
    """The unfinished line is trimmed every 64 KiB; what is trimmed is searched first,
    wherever the FoM sits relative to the cuts and the chunk boundaries."""
    data = noise(before) + b" FoM: 0.5 " + noise(MIB)
    assert scan("FoM: ", pieces(data, size)) == {"FoM": 0.5}
    assert scan({"FoM": 1.0}, pieces(data, size)) == {"FoM": 0.5}


@pytest.mark.parametrize("size", [7, 65_536, MIB])
def test_the_last_value_wins_across_trimmed_lines(size: int) -> None:
    data = b"FoM: 0.25" + noise(MIB) + b"FoM: 0.5" + noise(MIB) + b"\nFoM: oops " + noise(MIB)
    assert scan("FoM: ", pieces(data, size)) == {"FoM": 0.5}
    assert scan("FoM: ", pieces(data + b"\rFoM: 0.75", size)) == {"FoM": 0.75}


def test_a_metric_split_at_every_byte_before_a_mebibyte_is_kept() -> None:
    data = noise(65_530) + b"FoM: -1.5e-3" + noise(MIB)
    for cut in range(65_525, 65_545):
        chunks = [data[:cut], *pieces(data[cut:], 65_536)]
        assert scan("FoM: ", chunks) == {"FoM": -1.5e-3}, cut


def test_a_number_the_trim_cuts_is_read_whole() -> None:
    """The trim searches 64 KiB ending in ``FoM: 0.123456``: that number may go on, so it
    is left to the tail kept, where the rest of it arrives."""
    scanner = MetricSpec("FoM: ").scanner()
    scanner.feed(noise(65_537 - 13) + b"FoM: 0.123456")
    scanner.feed(b"789 " + noise(MIB))
    assert scanner.close() == {"FoM": 0.123456789}
    assert len(scanner._carry) <= 65_536 + 4096


def test_a_name_the_trim_cuts_from_its_prefix_is_no_whole_word() -> None:
    """The tail kept by a trim starting at ``loss`` of ``val_loss`` keeps the ``_`` before
    it as context: ``val_loss`` stays no ``loss``."""
    line = b"x" * 61_437 + b"val_loss: 9" + b"y" * 4089  # 65,537 bytes: one trim
    assert scan({"loss": 1.0}, [line, b" and on\n"]) == {}
    assert scan({"loss": 1.0}, [line, b" loss: 2\n"]) == {"loss": 2.0}


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


@given(
    lines=st.lists(
        st.one_of(
            st.floats(allow_nan=False).map(lambda v: f"FoM: {v!r}"),
            st.integers(-(10**12), 10**12).map(lambda v: f"FoM: {v}"),
            st.text(alphabet="abc FoM:\t.-e", max_size=20),
        ),
        max_size=12,
    ),
    cuts=st.lists(st.integers(0, 10_000), max_size=30),
)
def test_chunking_never_changes_the_result(lines: list[str], cuts: list[int]) -> None:
    data = "\n".join(lines).encode()
    whole = scan("FoM: ", [data])
    assert scan("FoM: ", chunked(data, cuts)) == whole
    assert scan("FoM: ", [data[i : i + 1] for i in range(len(data))]) == whole


@given(value=st.floats(allow_nan=False), noise=st.text(alphabet="xyz \n", max_size=40))
def test_a_prefix_split_byte_by_byte_is_still_found(value: float, noise: str) -> None:
    data = f"{noise}\nFoM: {value!r}\n{noise.replace('F', '')}".encode()
    assert scan("FoM: ", [data[i : i + 1] for i in range(len(data))]) == {"FoM": value}


# ------------------------------------------------------------------ steps (early stopping)


def steps(
    metric: str | dict[str, float], chunks: Iterable[bytes]
) -> tuple[list[float], dict[str, float]]:
    """The FoM of each step reported, and the final metrics."""
    reported: list[float] = []
    scanner = MetricSpec(metric).scanner(on_step=reported.append)
    for chunk in chunks:
        scanner.feed(chunk)
    return reported, scanner.close()


def test_each_line_with_the_fom_is_a_step() -> None:
    output = b"epoch 1: FoM: 0.9\nnoise\nepoch 2: FoM: 0.7\nFoM: n/a\nepoch 3: FoM: 0.5\n"
    assert steps("FoM: ", [output]) == ([0.9, 0.7, 0.5], {"FoM": 0.5})


def test_the_last_value_on_a_line_counts_and_carriage_returns_end_lines() -> None:
    output = b"train FoM: 3 val FoM: 2\n1/2 FoM: 1.5\r2/2 FoM: 1.25\r"
    assert steps("FoM: ", [output])[0] == [2.0, 1.5, 1.25]


def test_an_unterminated_last_line_is_no_step_but_still_the_final_fom() -> None:
    """It is read when the program has ended: there is nothing left to stop."""
    assert steps("FoM: ", [b"FoM: 2\nFoM: 1"]) == ([2.0], {"FoM": 1.0})


def test_nan_and_infinite_steps_are_reported() -> None:
    reported, _ = steps("FoM: ", [b"FoM: nan\nFoM: inf\n"])
    assert math.isnan(reported[0])
    assert reported[1] == math.inf


def test_a_dict_step_is_complete_when_every_metric_has_a_new_value() -> None:
    metric = {"loss": 1.0, "time": 0.5}
    output = (
        b"loss: 4 time: 2\n"  # one line, both: a step (4 + 1)
        b"loss: 3\n"  # time missing yet
        b"loss: 2\n"  # the latest loss counts
        b"time= 6\n"  # complete: 2 + 3
        b"time: 8 loss: 1\n"  # any order: 1 + 4
        b"time: 10\n"  # loss missing: no step
    )
    assert steps(metric, [output]) == ([5.0, 5.0, 5.0], {"loss": 1.0, "time": 10.0})


def test_a_dict_step_with_a_nan_metric_is_nan() -> None:
    reported, _ = steps({"loss": 1.0, "acc": -1.0}, [b"loss: nan acc: 0.5\nloss: 1 acc: 0.5\n"])
    assert math.isnan(reported[0])
    assert reported[1] == 0.5


def test_metrics_without_a_listener_are_found_as_before() -> None:
    output = b"loss: 3 time: 1\nloss: 2\n"
    assert steps({"loss": 1.0, "time": 1.0}, [output])[1] == scan(
        {"loss": 1.0, "time": 1.0}, [output]
    )


@given(
    lines=st.lists(
        st.one_of(
            st.floats(allow_nan=False).map(lambda v: f"FoM: {v!r}"),
            st.integers(-(10**6), 10**6).map(lambda v: f"loss: {v} time={v}"),
            st.text(alphabet="abc FoM:losstime\t.-e\r", max_size=20),
        ),
        max_size=12,
    ),
    cuts=st.lists(st.integers(0, 10_000), max_size=30),
)
def test_chunking_never_changes_the_steps(lines: list[str], cuts: list[int]) -> None:
    data = ("\n".join(lines) + "\n").encode()
    for metric in ("FoM: ", {"loss": 1.0, "time": 2.0}):
        whole = steps(metric, [data])
        assert steps(metric, chunked(data, cuts)) == whole
        assert steps(metric, [data[i : i + 1] for i in range(len(data))]) == whole
        assert whole[1] == scan(metric, [data])


def test_callable_results_become_metrics() -> None:
    spec = MetricSpec({"loss": 0.5, "time": 0.5})
    assert spec.from_result({"loss": 1, "time": 3.0}) == {"loss": 1.0, "time": 3.0}
    assert MetricSpec("FoM: ").from_result(2) == {"FoM": 2.0}
    assert MetricSpec("FoM: ").from_result(2.5) == {"FoM": 2.5}


def test_numpy_results_are_numbers() -> None:
    np = pytest.importorskip("numpy")
    assert MetricSpec("FoM: ").from_result(np.float32(0.5)) == {"FoM": 0.5}
    assert MetricSpec("FoM: ").from_result({"FoM": np.int64(3)}) == {"FoM": 3.0}


@pytest.mark.parametrize("result", [None, "1.0", True, [1.0], {"loss": "abc"}, {"loss": None}])
def test_a_result_that_is_not_a_number_is_a_clear_error(result: Any) -> None:
    with pytest.raises(ConfigError, match="must return a number"):
        MetricSpec({"loss": 1.0}).from_result(result)


@pytest.mark.parametrize(
    "line", ["FoM: 0x10", "FoM: 1_000", "FoM: 1.2.3", "FoM: 5s", "FoM: 0b1", "FoM: 3e"]
)
def test_a_number_that_does_not_end_is_refused_never_read_as_its_prefix(line: str) -> None:
    scanner = MetricScanner(MetricSpec("FoM: "))
    scanner.feed(f"FoM: 0.5\nepoch 2 {line} done\n".encode())
    metrics = scanner.close()
    assert math.isnan(metrics["FoM"])  # not 0, 1, 1.2, 5 ... nor the earlier 0.5
    assert scanner.refused == {"FoM": f"epoch 2 {line} done"}
    scanner.feed(b"FoM: 0.25\n")  # a later whole number counts again
    assert (scanner.close(), scanner.refused) == ({"FoM": 0.25}, {})


def test_a_refused_line_is_a_nan_step_and_named_for_dict_metrics() -> None:
    steps: list[float] = []
    scanner = MetricScanner(MetricSpec({"loss": 1.0}), steps.append)
    scanner.feed(b"loss: 0.5\nloss: 0x1f\n")
    assert steps[0] == 0.5
    assert math.isnan(steps[1])
    assert scanner.refused == {"loss": "loss: 0x1f"}


@pytest.mark.parametrize("text", ["FoM: 0.5.\n", "FoM: 0.5, next\n", "FoM: 0.5%\n", "FoM: 0.5)\n"])
def test_punctuation_after_a_number_ends_it(text: str) -> None:
    assert scan("FoM: ", [text.encode()]) == {"FoM": 0.5}

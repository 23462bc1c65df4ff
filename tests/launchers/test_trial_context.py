"""The trial handle: which functions get it (the signature rule), refused signatures,
and the handle's own behaviour (Stopped, should_stop, halt, pickling)."""

from __future__ import annotations

import functools
import pickle
from collections.abc import Callable
from typing import Any

import pytest

import hyperdeme
from hyperdeme import ASHA, ConfigError, Evaluator, Stopped, TrialContext
from hyperdeme.launchers._report_channel import ChannelReporter
from hyperdeme.launchers._signature import CallStyle, call_style


def one(params: dict[str, Any]) -> float:
    return 1.0


def two(params: dict[str, Any], trial: TrialContext) -> float:
    return 1.0


async def two_async(params: dict[str, Any], t: TrialContext) -> float:
    return 1.0


def with_default(params: dict[str, Any], scale: float = 2.0) -> float:
    return scale


def trial_default(params: dict[str, Any], trial: TrialContext | None = None) -> float:
    return 1.0


def trial_keyword(params: dict[str, Any], *, trial: TrialContext) -> float:
    return 1.0


def checkpoint_positional(params: dict[str, Any], checkpoint: str | None) -> float:
    return 1.0


def both(params: dict[str, Any], trial: TrialContext, checkpoint: str | None = None) -> float:
    return 1.0


def both_keywords(params: dict[str, Any], *, checkpoint: str | None, trial: Any = None) -> float:
    return 1.0


def _wrapped(function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return function(*args, **kwargs)

    return wrapper


@pytest.mark.parametrize(
    ("function", "style"),
    [
        (one, CallStyle()),
        (lambda params: 1.0, CallStyle()),
        (two, CallStyle(handle="positional")),
        (two_async, CallStyle(coroutine=True, handle="positional")),
        (with_default, CallStyle()),  # an optional second parameter keeps its default
        (trial_default, CallStyle(handle="positional")),  # ... unless it is named trial
        (trial_keyword, CallStyle(handle="keyword")),
        (checkpoint_positional, CallStyle(checkpoint=True)),  # as before handles existed
        (both, CallStyle(handle="positional", checkpoint=True)),
        (both_keywords, CallStyle(handle="keyword", checkpoint=True)),
        (_wrapped(two), CallStyle(handle="positional")),  # functools.wraps shows the function
        (_wrapped(one), CallStyle()),
        (functools.partial(with_default, scale=3.0), CallStyle()),
        (max, CallStyle()),  # no readable signature: f(params), as always
    ],
)
def test_the_signature_rule(function: Callable[..., Any], style: CallStyle) -> None:
    assert call_style(function) == style


def no_parameter() -> float:
    return 1.0


def star_args(*args: Any) -> float:
    return 1.0


def params_and_star_args(params: dict[str, Any], *args: Any) -> float:
    return 1.0


def three(params: dict[str, Any], trial: Any, extra: int) -> float:
    return 1.0


def required_keyword(params: dict[str, Any], *, lr: float) -> float:
    return lr


@pytest.mark.parametrize(
    ("function", "why"),
    [
        (no_parameter, "takes no positional parameter for the parameters dict"),
        (star_args, "takes \\*args, so it cannot be told whether it wants the trial handle"),
        (params_and_star_args, "takes \\*args"),
        (_wrapped(star_args), "takes \\*args"),
        (three, "requires 'extra', which nothing fills"),
        (required_keyword, "requires 'lr', which nothing fills"),
    ],
)
def test_signatures_that_cannot_be_called_are_refused_at_construction(
    function: Callable[..., Any], why: str
) -> None:
    with pytest.raises(ConfigError, match=why) as caught:
        Evaluator(function)
    assert caught.value.name == "cmd"
    assert caught.value.value == function.__qualname__


def test_the_refusal_says_how_functions_are_called() -> None:
    with pytest.raises(ConfigError) as caught:
        Evaluator(star_args)
    assert str(caught.value) == (
        "the evaluation function star_args takes *args, so it cannot be told whether it "
        "wants the trial handle as its second argument; name its parameters (def f(params) "
        "or def f(params, trial)), or make its decorator with functools.wraps. An evaluation "
        "function is called f(params), f(params, trial) (a trial handle: trial.report(fom, "
        "step=k), trial.checkpoint_dir) or with a checkpoint= keyword; see the guide's "
        '"Step reports from Python objectives".'
    )


def test_a_handle_function_takes_early_stopping_without_a_warning() -> None:
    evaluator = Evaluator(two, early_stopping=ASHA(max_steps=9))  # filterwarnings=error
    assert evaluator.takes_trial
    assert evaluator.takes_checkpoint  # its handle carries the checkpoint directory
    assert not Evaluator(with_default).takes_trial
    with pytest.warns(hyperdeme.HyperdemeWarning, match=r"def f\(params, trial\)"):
        Evaluator(one, early_stopping=ASHA(max_steps=9))


class _Answers:
    """A reporter answering from a list; records what it was told."""

    def __init__(self, *answers: bool) -> None:
        self.answers = list(answers)
        self.told: list[tuple[object, int | None]] = []

    def report(self, value: object, step: int | None) -> bool:
        self.told.append((value, step))
        return self.answers.pop(0)


def test_report_raises_stopped_when_told_and_every_time_after() -> None:
    answers = _Answers(False, True)
    trial = TrialContext(id=7, params={"--x": 1}, checkpoint_dir=None, reporter=answers)
    trial.report(0.5, step=1)
    assert not trial.should_stop()
    with pytest.raises(Stopped, match="the early-stopping rule stopped trial 7 at step 2"):
        trial.report({"loss": 0.4}, step=2)
    assert trial.should_stop()
    with pytest.raises(Stopped, match="trial 7 is stopped"):
        trial.report(0.3, step=3)
    assert answers.told == [(0.5, 1), ({"loss": 0.4}, 2)]  # nothing sent once stopped
    assert not issubclass(Stopped, Exception)  # `except Exception` does not swallow it


def test_halt_stops_the_next_report() -> None:
    answers = _Answers()
    trial = TrialContext(id=1, params={}, checkpoint_dir="/ck", reporter=answers)
    trial.halt()
    assert trial.should_stop()
    with pytest.raises(Stopped):
        trial.report(1.0)
    assert answers.told == []


def test_a_handle_pickles_without_its_socket() -> None:
    channel = ChannelReporter("/nonexistent/1.sock")
    trial = TrialContext(
        id=3, params={"--x": 2}, checkpoint_dir="/ck/3", reporter=channel, gpus=("1",)
    )
    copy = pickle.loads(pickle.dumps(trial))
    assert (copy.id, copy.params, copy.checkpoint_dir, copy.gpus) == (
        3,
        {"--x": 2},
        "/ck/3",
        ("1",),
    )
    assert repr(copy) == (
        "TrialContext(id=3, params={'--x': 2}, checkpoint_dir='/ck/3', gpus=('1',))"
    )
    with pytest.raises(ConnectionError, match="could not reach the driver"):
        copy.report(1.0)

"""An experiment file (TOML) as the objects that run it: Params, Evaluator, optimizer.

::

    command = "python3 train.py --epochs 3"   # required: the program, without its flags
    name = "mnist"                            # the run directory's name (optional)
    [evaluator]                               # any hyperdeme.Evaluator keyword
    src_path = "src"
    [evaluator.early_stopping]                # optional: type = "asha" (or a plug-in's
                                              # name), max_steps = 27 ...
    [optimizer]
    type = "genetic"                          # random | grid | genetic | pbt | cmaes |
                                              # optuna (sampler = "tpe" ...) | a plug-in
    generations = 10                          # any keyword of that optimizer
    [params."--lr"]                           # see _search_space
    range = [1e-5, 1.0]

Relative ``src_path``, ``run_path`` and ``checkpoint`` are relative to the
file's directory, and so is the default ``run_path`` (``run``): the run directory of
``hyperdeme run exp/experiment.toml`` is ``exp/run/<name>`` wherever it is started.
Only ``--run-path`` on the command line is relative to the current directory, as every
path typed in a shell. In hyperdeme 0.2 the default was ``run`` in the current
directory: when that older run directory exists and is another one,
:attr:`ExperimentFile.old_run_dir` names it (the command warns, and refuses a
``--resume`` that would start afresh). A ``type`` that is not built in names a strategy
plug-in (see ``_strategy_plugins``). Unknown keys are errors; every error is an
:class:`ExperimentError` naming the file and the key.
"""

from __future__ import annotations

import tomllib
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import hyperdeme

from .._core._plugins import EARLY_STOPPING as RULE_PLUGINS
from .._core._plugins import STRATEGIES, load_plugin, plugins
from ._engine_internals import DEFAULT_RUN_PATH, check_experiment_path
from ._errors import ExperimentError, UsageProblem, culprit
from ._max_evals import budget_arguments, limited
from ._search_space import build_params
from ._strategy_plugins import plugin_optimizer, unknown_type

__all__ = ["OPTIMIZERS", "ExperimentFile", "load_experiment"]

TOP_KEYS = ("command", "name", "evaluator", "optimizer", "params", "conditions")
#: optimizer ``type`` -> class
OPTIMIZERS: dict[str, type[hyperdeme.Optimizer]] = {
    "random": hyperdeme.RandomOptimizer,
    "grid": hyperdeme.GridOptimizer,
    "genetic": hyperdeme.GeneticOptimizer,
    "pbt": hyperdeme.PBTOptimizer,
    "cmaes": hyperdeme.CMAESOptimizer,
    "optuna": hyperdeme.OptunaOptimizer,
}
#: evaluator keywords holding paths, resolved against the file's directory
PATH_KEYS = ("src_path", "run_path", "checkpoint")
_LIBRARY_ERRORS = (hyperdeme.HyperdemeError, TypeError, ValueError)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ExperimentFile:
    """A loaded experiment file, ready to run."""

    path: Path
    params: hyperdeme.Params
    evaluator: hyperdeme.Evaluator
    optimizer: hyperdeme.Optimizer
    #: where the journal and the trials' files go: ``run_path/<experiment>``
    run_dir: Path
    #: where hyperdeme 0.2 put the run directory (the default ``run_path`` was relative to
    #: the current directory, not the file) : ``run`` there), when it exists and is not ``run_dir``
    old_run_dir: Path | None = None


#: an experiment file is a few KB; this keeps ``run /dev/zero`` from filling the memory
MAX_FILE_BYTES = 16 * 2**20


def _read_toml(path: Path) -> dict[str, Any]:
    """The file's TOML document, or a :class:`UsageProblem` naming the file and what is
    wrong (unreadable, too large, not UTF-8 with the byte offset, not TOML)."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise UsageProblem(f"{path}: cannot read the experiment file: {error.strerror}.") from None
    if len(data) > MAX_FILE_BYTES:
        raise UsageProblem(
            f"{path}: the experiment file is larger than {MAX_FILE_BYTES // 2**20} MiB; "
            "is it the right file?"
        )
    try:
        # a byte-order mark (some Windows editors write one) is not TOML, but harmless
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise UsageProblem(
            f"{path}: not UTF-8 text: byte {error.start} (line {line}, column {column}) is "
            f"{data[error.start : error.start + 1]!r}; TOML files must be UTF-8: save it as "
            "UTF-8 (for example iconv -f latin1 -t utf-8)."
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise UsageProblem(f"{path}: not valid TOML: {error}.") from None


def load_experiment(
    path: Path, *, run_path: str | None = None, max_evals: int | None = None
) -> ExperimentFile:
    """Read and check ``path``; ``run_path`` (relative to the current directory) overrides
    the file's ``evaluator.run_path`` (relative to the file; default ``run`` beside it),
    ``max_evals`` its budget (see :mod:`._max_evals`)."""
    document = _read_toml(path)
    for key in document:
        if key not in TOP_KEYS:
            raise ExperimentError(path, key, f"unknown key; allowed: {', '.join(TOP_KEYS)}.")
    command = document.get("command")
    if not isinstance(command, str) or not command.strip():
        problem = "missing" if command is None else f"got {command!r}"
        raise ExperimentError(
            path,
            "command",
            f"{problem}; give the training program's command line without its "
            'hyperparameter flags, e.g. command = "python3 train.py --epochs 3".',
        )
    name = document.get("name", "")
    if not isinstance(name, str):
        raise ExperimentError(path, "name", f"must be a string, got {name!r}.")
    params = build_params(path, document.get("params"), document.get("conditions"))
    table = document.get("evaluator", {})
    settings = _evaluator_settings(path, table, run_path)
    default_run_path = run_path is None and not (isinstance(table, dict) and "run_path" in table)
    evaluator = _evaluator(path, command, settings, default_run_path=default_run_path)
    optimizer = _optimizer(path, document.get("optimizer"), evaluator, name, params, max_evals)
    run_dir = Path(settings["run_path"]) / optimizer.experiment
    try:  # now, so --dry-run says it too (the run would fail with ENAMETOOLONG)
        check_experiment_path(run_dir)
    except hyperdeme.ConfigError as error:
        raise ExperimentError(path, "name", str(error)) from None
    old = _old_run_dir(optimizer, run_dir) if default_run_path else None
    return ExperimentFile(path, params, evaluator, optimizer, run_dir, old)


def _old_run_dir(optimizer: hyperdeme.Optimizer, run_dir: Path) -> Path | None:
    """The run directory the current directory's ``run`` held for this experiment before
    the default became relative to the file, if it exists and differs (see the module doc).
    Without a name: ``run`` itself, whose newest matching experiment a resume takes."""
    old_root = Path(DEFAULT_RUN_PATH).absolute()
    if old_root == run_dir.parent:
        return None
    old = old_root / optimizer.name if optimizer.name else old_root
    return old if old.is_dir() else None


def _table(path: Path, key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ExperimentError(path, key, f"must be a table [{key}], got {value!r}.")
    return dict(value)


def _kind(path: Path, key: str, arguments: dict[str, Any], kinds: Mapping[str, T]) -> T:
    """What the table ``key``'s ``type`` names in ``kinds``, popped from its ``arguments``."""
    kind = arguments.pop("type", None)
    if kind not in kinds:
        problem = "missing" if kind is None else f"got {kind!r}"
        raise ExperimentError(path, f"{key}.type", f"{problem}; allowed: {', '.join(kinds)}.")
    return kinds[kind]


def _evaluator_settings(path: Path, table: Any, run_path: str | None) -> dict[str, Any]:
    settings = _table(path, "evaluator", table)
    base = path.parent.absolute()
    for key in PATH_KEYS:
        value = settings.get(key)
        if isinstance(value, str) and value:
            settings[key] = str(base / value)  # an absolute value stays as it is
    if run_path is not None:
        settings["run_path"] = str(Path(run_path).absolute())
    elif not settings.get("run_path"):  # the default is relative to the file too
        settings["run_path"] = str(base / DEFAULT_RUN_PATH)
    source = settings.get("src_path")
    if isinstance(source, str) and source and not Path(source).is_dir():
        raise ExperimentError(
            path,
            "evaluator.src_path",
            f"{source} is not a directory; give the directory holding the training program "
            "(relative to the experiment file).",
        )
    return settings


#: [evaluator.early_stopping] type = ... -> the built-in rule (plug-ins: entry points
#: of the group hyperdeme.early_stopping naming an EarlyStopping subclass)
EARLY_STOPPING: dict[str, type[hyperdeme.EarlyStopping]] = {"asha": hyperdeme.ASHA}


def _early_stopping(path: Path, table: Any) -> hyperdeme.EarlyStopping:
    arguments = _table(path, "evaluator.early_stopping", table)
    installed = sorted(set(plugins(RULE_PLUGINS)) - set(EARLY_STOPPING))
    kinds = {name: name for name in [*EARLY_STOPPING, *installed]}
    kind = _kind(path, "evaluator.early_stopping", arguments, kinds)
    rule = EARLY_STOPPING.get(kind) or _plugin_rule(path, kind)
    try:
        return rule(**arguments)
    except _LIBRARY_ERRORS as error:
        raise ExperimentError(
            path, culprit("evaluator.early_stopping", error), str(error)
        ) from None


def _plugin_rule(path: Path, name: str) -> type[hyperdeme.EarlyStopping]:
    """The EarlyStopping subclass the installed plug-in ``name`` names, imported now."""
    key = "evaluator.early_stopping.type"
    try:
        rule = load_plugin(RULE_PLUGINS, name)
    except hyperdeme.ConfigError as error:
        raise ExperimentError(path, key, str(error)) from None
    if not (isinstance(rule, type) and issubclass(rule, hyperdeme.EarlyStopping)):
        raise ExperimentError(
            path,
            key,
            f"the {RULE_PLUGINS} plug-in {name!r} ({plugins(RULE_PLUGINS)[name].value}) names "
            f"{rule!r}, which is not a hyperdeme.EarlyStopping subclass.",
        )
    return rule


def _evaluator(
    path: Path, command: str, settings: dict[str, Any], *, default_run_path: bool
) -> hyperdeme.Evaluator:
    if "early_stopping" in settings:
        settings["early_stopping"] = _early_stopping(path, settings["early_stopping"])
    try:
        with warnings.catch_warnings():
            if default_run_path:  # the file gave none: its advice about one is not for it
                warnings.filterwarnings(
                    "ignore", "run_path is set but src_path is not", hyperdeme.HyperdemeWarning
                )
            return hyperdeme.Evaluator(command, **settings)
    except _LIBRARY_ERRORS as error:
        raise ExperimentError(path, culprit("evaluator", error), str(error)) from None


def _optimizer(
    path: Path,
    table: Any,
    evaluator: hyperdeme.Evaluator,
    name: str,
    params: hyperdeme.Params,
    max_evals: int | None,
) -> hyperdeme.Optimizer:
    if table is None:
        raise ExperimentError(
            path, "optimizer", f"missing; add [optimizer] with type = {' | '.join(OPTIMIZERS)}."
        )
    arguments = _table(path, "optimizer", table)
    for reserved, where in (
        ("name", "name = ... at the top of the file"),
        ("evaluator", "[evaluator]"),
    ):
        if reserved in arguments:
            raise ExperimentError(path, f"optimizer.{reserved}", f"not allowed here; use {where}.")
    kind = arguments.get("type")
    own_budget = budget_arguments(kind, arguments, max_evals)
    if kind not in OPTIMIZERS:
        if isinstance(kind, str) and kind in plugins(STRATEGIES):
            built = plugin_optimizer(path, arguments, evaluator, name, params)
        else:
            raise unknown_type(path, kind, OPTIMIZERS)
    else:
        optimizer = _kind(path, "optimizer", arguments, OPTIMIZERS)
        try:
            built = optimizer(evaluator, name=name, **arguments)
        except _LIBRARY_ERRORS as error:
            raise ExperimentError(path, culprit("optimizer", error), str(error)) from None
    return built if own_budget or max_evals is None else limited(built, max_evals)

"""Experiment files: TOML to Params, Evaluator, optimizer; each mistake exits 2 naming the key."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import hyperdeme
from hyperdeme import condition
from hyperdeme._cli._experiment import load_experiment

from .conftest import EXPERIMENT, HERE, invoke, write

MINIMAL = f"""
command = "{sys.executable} train.py"
[optimizer]
type = "random"
num_iters = 3
[params."--lr"]
range = [0.001, 1.0]
"""


def test_the_file_becomes_params_evaluator_and_optimizer(tmp_path: Path) -> None:
    experiment = load_experiment(write(tmp_path, EXPERIMENT))
    params = experiment.params
    assert params.flags == ("--lr", "--optimizer", "--momentum", "--layers")  # file order
    assert params["--layers"].integer
    assert (params["--layers"].low, params["--layers"].high) == (1, 6)
    assert isinstance(params["--layers"].low, int)
    assert params["--lr"].log
    assert params.get_params()["--optimizer"] == "sgd"
    assert params.conditions == (condition.equals("--momentum", "--optimizer", "sgd"),)
    optimizer = experiment.optimizer
    assert isinstance(optimizer, hyperdeme.GeneticOptimizer)
    config = optimizer.config
    assert (config.generations, config.num_demes, config.pop_size) == (2, 2, 4)
    assert optimizer.seed == 5
    assert optimizer.evaluator is experiment.evaluator
    assert experiment.evaluator.cmd == f"{sys.executable} train.py"
    # relative paths are relative to the file, not to the current directory
    assert experiment.run_dir == tmp_path / "run" / "small"


def test_a_pbt_experiment(tmp_path: Path) -> None:
    text = MINIMAL.replace('train.py"', 'train.py --ckpt @checkpoint"').replace(
        'type = "random"\nnum_iters = 3', 'type = "pbt"\npopulation = 4\nsteps = 3\nmode = "sync"'
    )
    optimizer = load_experiment(write(tmp_path, text)).optimizer
    assert isinstance(optimizer, hyperdeme.PBTOptimizer)
    assert (optimizer.config.population, optimizer.config.steps) == (4, 3)
    assert optimizer.config.mode == "sync"


def test_relative_paths_resolve_against_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "exp" / "src").mkdir(parents=True)
    text = MINIMAL + '[evaluator]\nsrc_path = "src"\nrun_path = "out"\ncheckpoint = "ckpt"\n'
    path = write(tmp_path / "exp", text)
    monkeypatch.chdir(tmp_path)
    experiment = load_experiment(Path("exp/experiment.toml"))
    assert experiment.run_dir.parent == tmp_path / "exp" / "out"
    # --run-path is relative to the current directory
    override = load_experiment(path, run_path="elsewhere")
    assert override.run_dir.parent == tmp_path / "elsewhere"


def test_without_run_path_the_run_goes_to_run_beside_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 21: src_path was relative to the file, the default run directory to the
    current directory; both are relative to the file now."""
    (tmp_path / "exp").mkdir()
    path = write(tmp_path / "exp", MINIMAL)
    monkeypatch.chdir(tmp_path)
    experiment = load_experiment(Path("exp/experiment.toml"))
    assert experiment.run_dir.parent == tmp_path / "exp" / "run"
    assert experiment.run_dir.name.startswith("randomoptimizer-")
    assert experiment.old_run_dir is None
    outcome = invoke("run", path, "--dry-run")
    assert outcome.code == 0, outcome.err
    assert f"run directory: {tmp_path / 'exp' / 'run'}/randomoptimizer-" in outcome.out
    assert outcome.err == ""


def test_the_old_run_directory_in_the_current_directory_is_named_and_kept_safe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """hyperdeme 0.2 put it in ./run: a warning, and a --resume that would start afresh
    beside the file is refused with the option that continues the old one."""
    (tmp_path / "exp").mkdir()
    # with src_path: --run-path alone would be advised against (logs apart from the work)
    path = write(tmp_path / "exp", 'name = "mnist"\n' + MINIMAL + '[evaluator]\nsrc_path = "."\n')
    (tmp_path / "run" / "mnist").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert load_experiment(path).old_run_dir == tmp_path / "run" / "mnist"
    dry = invoke("run", path, "--dry-run")
    assert dry.code == 0, dry.err
    assert dry.err == (
        f"hyperdeme run: warning: the run directory is {tmp_path / 'exp' / 'run' / 'mnist'} "
        "(the default run_path is relative to the experiment file now); "
        f"{tmp_path / 'run' / 'mnist'} (relative to the current directory, where hyperdeme "
        "0.2 put it) exists: pass --run-path run to use the old place, or set run_path in "
        "[evaluator].\n"
    )
    resume = invoke("run", path, "--resume", "--dry-run")
    assert resume.code == 2
    assert "holds what --resume would continue: pass --run-path run" in resume.err
    old = invoke("run", path, "--resume", "--dry-run", "--run-path", "run")
    assert (old.code, old.err) == (0, "")
    assert f"run directory: {tmp_path / 'run' / 'mnist'}" in old.out
    # run from the file's own directory, both places are one: nothing to say
    monkeypatch.chdir(tmp_path / "exp")
    assert load_experiment(path).old_run_dir is None


def test_without_a_name_the_old_run_folder_itself_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "exp").mkdir()
    path = write(tmp_path / "exp", MINIMAL + '[evaluator]\nsrc_path = "."\n')
    monkeypatch.chdir(tmp_path)
    assert load_experiment(path).old_run_dir is None
    (tmp_path / "run").mkdir()
    assert load_experiment(path).old_run_dir == tmp_path / "run"
    # a run_path in the file, or --run-path: the user chose; nothing moved
    chosen = write(
        tmp_path / "exp", MINIMAL + '[evaluator]\nsrc_path = "."\nrun_path = "run"\n', "b.toml"
    )
    assert load_experiment(chosen).old_run_dir is None
    assert load_experiment(path, run_path="elsewhere").old_run_dir is None


@pytest.mark.parametrize(
    ("text", "key", "hint"),
    [
        ("nmae = 'x'\n" + MINIMAL, "nmae", "allowed: command, name, evaluator"),
        (MINIMAL.replace("command = ", "# "), "command", "missing"),
        (MINIMAL.replace('command = "', 'command = 3 # "'), "command", "got 3"),
        ("name = 7\n" + MINIMAL, "name", "must be a string"),
        (
            MINIMAL + "[evaluator]\nnum_paralel_evals = 2\n",
            "evaluator.num_paralel_evals",
            "allowed",
        ),
        (
            MINIMAL + "[evaluator]\nnum_parallel_evals = '4'\n",
            "evaluator.num_parallel_evals",
            "integer",
        ),
        (MINIMAL + "[evaluator]\nsrc_path = 'nowhere'\n", "evaluator.src_path", "not a directory"),
        (
            MINIMAL + "[evaluator]\nworkload_manager = 'lsf'\n",
            "evaluator.workload_manager",
            "slurm",
        ),
        (MINIMAL.replace('"random"', '"annealing"'), "optimizer.type", "random, grid, genetic"),
        (MINIMAL.replace("num_iters = 3", "num_iter = 3"), "optimizer.num_iter", "num_iters"),
        (MINIMAL.replace("num_iters = 3", "name = 'x'"), "optimizer.name", "top of the file"),
        (
            MINIMAL.replace('"random"\nnum_iters = 3', '"genetic"\npop_size = 1'),
            "optimizer.pop_size",
            "pop_size",
        ),
        (MINIMAL.replace('[optimizer]\ntype = "random"\nnum_iters = 3\n', ""), "optimizer", "type"),
        (
            MINIMAL.replace("range = [0.001, 1.0]", "range = [1.0, 0.001]"),
            'params."--lr".range',
            "below",
        ),
        (
            MINIMAL.replace("range = [0.001, 1.0]", "range = [0.1]"),
            'params."--lr".range',
            "two numbers",
        ),
        (
            MINIMAL.replace("range = [0.001, 1.0]", "range = ['a', 'b']"),
            'params."--lr".range',
            "numbers",
        ),
        (MINIMAL + "default = 5.0\n", 'params."--lr".default', "[0.001, 1.0]"),
        (MINIMAL + "log = 'yes'\n", 'params."--lr".log', "true or false"),
        (MINIMAL + "values = [1, 2]\n", 'params."--lr"', "exactly one of range"),
        (MINIMAL + "step = 2\n", 'params."--lr".step', "allowed: default, range, values, log"),
        (
            MINIMAL.replace("range = [0.001, 1.0]", "values = []"),
            'params."--lr".values',
            "non-empty",
        ),
        (MINIMAL.replace('[params."--lr"]\nrange = [0.001, 1.0]', ""), "params", "at least one"),
        (
            MINIMAL
            + "[[conditions]]\ntype = 'equal'\ndependent = '--lr'\nparent = '--x'\nvalue = 1\n",
            "conditions[0].type",
            "equals, not_equals",
        ),
        (
            MINIMAL + "[[conditions]]\ntype = 'equals'\ndependent = '--lr'\nparent = '--x'\n",
            "conditions[0].value",
            "missing",
        ),
        (
            MINIMAL + "[[conditions]]\ntype = 'equals'\ndependent = '--lr'\nparent = '--x'\n"
            "value = 1\n",
            "conditions[0]",
            "--x",
        ),
    ],
)
def test_each_mistake_exits_2_naming_the_file_and_the_key(
    tmp_path: Path, text: str, key: str, hint: str
) -> None:
    path = write(tmp_path, text)
    outcome = invoke("run", path, "--dry-run")
    assert outcome.code == 2
    assert f"{path}: key {key!r}: " in outcome.err
    assert hint in outcome.err
    assert not (tmp_path / "run").exists()


def test_invalid_toml_and_a_missing_file_exit_2(tmp_path: Path) -> None:
    broken = write(tmp_path, "command = 'x\n")
    outcome = invoke("run", broken)
    assert outcome.code == 2
    assert f"{broken}: not valid TOML" in outcome.err
    missing = invoke("run", tmp_path / "missing.toml")
    assert missing.code == 2
    assert "cannot read the experiment file" in missing.err


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (
            b'command = "x"\nname = "caf\xe9"\n',
            "not UTF-8 text: byte 25 (line 2, column 12) is b'\\xe9'",
        ),
        (b"\xff\xfecommand = 'x'\n", "not UTF-8 text: byte 0 (line 1, column 1) is b'\\xff'"),
        (b"", "key 'command': missing"),
        (b"command = 'x'\x00\n", "not valid TOML"),
        (b"command = 'x'\n" + b"# padding\n" * 2_000_000, "larger than 16 MiB"),
    ],
    ids=["latin1", "utf16", "empty", "nul", "huge"],
)
def test_a_malformed_file_exits_2_with_one_line_naming_it(
    tmp_path: Path, content: bytes, says: str
) -> None:
    """Issue 18.9: never a traceback (a UnicodeDecodeError was one, exit 1)."""
    path = tmp_path / "experiment.toml"
    path.write_bytes(content)
    outcome = invoke("run", path, "--dry-run")
    assert outcome.code == 2, outcome.err
    assert outcome.err.startswith(f"hyperdeme run: error: {path}: ")
    assert says in outcome.err
    assert "Traceback" not in outcome.err
    assert len(outcome.err.strip().splitlines()) == 1


def test_a_too_long_experiment_name_fails_the_dry_run(tmp_path: Path) -> None:
    """Up front, not ENAMETOOLONG once the run starts."""
    path = write(tmp_path, EXPERIMENT.replace('name = "small"', f'name = "{"n" * 300}"'))
    outcome = invoke("run", path, "--dry-run")
    assert outcome.code == 2
    assert f"{path}: key 'name': the experiment name 'nnnn" in outcome.err
    assert "is 300 bytes long" in outcome.err
    assert not (tmp_path / "run").exists()


def test_a_directory_given_as_the_file_exits_2(tmp_path: Path) -> None:
    outcome = invoke("run", tmp_path, "--dry-run")
    assert outcome.code == 2
    assert f"{tmp_path}: cannot read the experiment file: Is a directory." in outcome.err


def test_a_byte_order_mark_is_read_past(tmp_path: Path) -> None:
    path = tmp_path / "experiment.toml"
    path.write_bytes(b"\xef\xbb\xbf" + EXPERIMENT.encode())
    assert load_experiment(path).evaluator.cmd.endswith("train.py")


def test_dry_run_prints_the_first_command_lines_and_runs_nothing(tmp_path: Path) -> None:
    outcome = invoke("run", write(tmp_path, EXPERIMENT), "--dry-run")
    assert outcome.code == 0, outcome.err
    commands = [line.strip() for line in outcome.out.splitlines() if line.startswith("  ")]
    assert len(commands) == 5
    # the baseline first: every default, --momentum active because --optimizer is sgd
    assert commands[0] == (
        f"{sys.executable} train.py --lr=0.1 --optimizer=sgd --momentum=0.5 --layers=1"
    )
    assert "16 trials" in outcome.out
    assert not (tmp_path / "run").exists()


def test_the_bundled_example_is_valid() -> None:
    example = HERE.parents[1] / "examples" / "sin_poly" / "experiment.toml"
    outcome = invoke("run", example, "--dry-run")
    assert outcome.code == 0, outcome.err
    assert "--c0=0.0 --c1=0.0" in outcome.out


def test_early_stopping_from_the_file(tmp_path: Path) -> None:
    text = f"""
command = "python3 train.py"
[evaluator]
src_path = "{HERE}"
[evaluator.early_stopping]
type = "asha"
max_steps = 27
reduction_factor = 3
min_steps = 5
[optimizer]
type = "random"
num_iters = 3
[params."--lr"]
range = [0.001, 1.0]
"""
    experiment = load_experiment(write(tmp_path, text))
    rule = experiment.evaluator.config.early_stopping
    assert rule == hyperdeme.ASHA(max_steps=27, reduction_factor=3, min_steps=5)


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ('type = "median"', "evaluator.early_stopping.type"),
        ('type = "asha"\nmax_steps = 0', "evaluator.early_stopping.max_steps"),
        ('type = "asha"\nmax_step = 9', "evaluator.early_stopping.max_step"),
    ],
)
def test_a_bad_early_stopping_table_names_its_key(tmp_path: Path, table: str, key: str) -> None:
    text = f"""
command = "python3 train.py"
[evaluator.early_stopping]
{table}
[optimizer]
type = "random"
[params."--lr"]
range = [0.001, 1.0]
"""
    outcome = invoke("run", write(tmp_path, text), "--dry-run")
    assert outcome.code == 2
    assert f"key '{key}'" in outcome.err


GENETIC = MINIMAL.replace('"random"\nnum_iters = 3', '"genetic"')
PBT = MINIMAL.replace('train.py"', 'train.py --ckpt @checkpoint"').replace(
    '"random"\nnum_iters = 3', '"pbt"'
)


@pytest.mark.parametrize(
    ("text", "key", "hint"),
    [
        # [optimizer] and the top level
        (
            GENETIC.replace('"genetic"', '"genetic"\nmutation_rate = 1.5'),
            "optimizer.mutation_rate",
            "[0, 1]",
        ),
        (
            GENETIC.replace('"genetic"', '"genetic"\npop_size = "8"'),
            "optimizer.pop_size",
            "integer",
        ),
        (
            GENETIC.replace('"genetic"', '"genetic"\nmul_mutation_bounds = [0.3, 0.2, 0.1]'),
            "optimizer.mul_mutation_bounds",
            "increasing",
        ),
        (PBT.replace('"pbt"', '"pbt"\nquantile = 0.7'), "optimizer.quantile", "[0, 0.5]"),
        (PBT.replace('"pbt"', '"pbt"\nperturb = [0.8, -1.0]'), "optimizer.perturb", "each factor"),
        (MINIMAL.replace("num_iters = 3", "seed = -1"), "optimizer.seed", "integer >= 0"),
        (MINIMAL.replace("num_iters = 3", 'backend = "curio"'), "optimizer.backend", "trio"),
        (
            MINIMAL.replace('"random"', '"pbt"').replace("num_iters = 3", ""),
            "command",
            "@checkpoint",
        ),
        ('name = "a/b"\n' + MINIMAL, "name", "plain name"),
        # [evaluator] and its launcher options
        (MINIMAL + "[evaluator]\ntimeout = '5'\n", "evaluator.timeout", "number"),
        (MINIMAL + "[evaluator]\nnodes = -1\n", "evaluator.nodes", "integer >= 0"),
        (
            MINIMAL + "[evaluator]\nworkload_manager = 'local'\nnodes = 4\n",
            "evaluator.nodes",
            "needs a workload manager",
        ),
        (MINIMAL + '[evaluator.env]\n"1X" = "v"\n', "evaluator.env.1X", "environment variable"),
        (MINIMAL + '[evaluator.flag]\ngpus = "--g"\n', "evaluator.flag.gpus", "not supported"),
        (MINIMAL + '[evaluator.metric]\nloss = "high"\n', "evaluator.metric.loss", "weight"),
        (MINIMAL + "[evaluator]\nlauncher = 'k8s'\n", "evaluator.workload_image", "image"),
        (
            MINIMAL + "[evaluator]\nlauncher = 'k8s'\nworkload_image = 'img'\n"
            "[evaluator.launcher_options]\nnamespace = 'Team_A'\n",
            "evaluator.launcher_options.namespace",
            "namespace name",
        ),
        (
            MINIMAL + "[evaluator]\nlauncher = 'pbs'\n"
            "[evaluator.launcher_options]\npbs_flavour = 'lsf'\n",
            "evaluator.launcher_options.pbs_flavour",
            "torque",
        ),
        (
            MINIMAL + "[evaluator]\nlauncher = 'pbs'\n"
            "[evaluator.launcher_options]\npoll_interval = 0\n",
            "evaluator.launcher_options.poll_interval",
            "> 0",
        ),
        # [evaluator.early_stopping]
        (
            MINIMAL + "[evaluator.early_stopping]\ntype = 'asha'\nmax_steps = 9\nmin_steps = 9\n",
            "evaluator.early_stopping.min_steps",
            "below max_steps",
        ),
        (
            MINIMAL + "[evaluator.early_stopping]\ntype = 'asha'\nmax_steps = 9\n"
            "reduction_factor = 1\n",
            "evaluator.early_stopping.reduction_factor",
            "integer >= 2",
        ),
        (
            MINIMAL + "[evaluator.early_stopping]\ntype = 'asha'\n",
            "evaluator.early_stopping.max_steps",
            "needs the keyword",
        ),
        # [params."--flag"]: the part the library found wrong
        (
            MINIMAL.replace("range = [0.001, 1.0]", "range = [0.0, 1.0]\nlog = true"),
            'params."--lr".log',
            "log-scale",
        ),
        (
            MINIMAL.replace("range = [0.001, 1.0]", "values = [1, 1]"),
            'params."--lr".values',
            "twice",
        ),
        (
            MINIMAL.replace("range = [0.001, 1.0]", "values = [1, 2]\nlog = true"),
            'params."--lr".log',
            "value list",
        ),
        (
            MINIMAL.replace("range = [0.001, 1.0]", "values = [1, 2]\ndefault = 3"),
            'params."--lr".default',
            "not in the value list",
        ),
        (MINIMAL.replace('"--lr"', '"a=b"'), 'params."a=b"', "may not contain '='"),
    ],
)
def test_a_library_error_is_reported_under_the_key_it_names(
    tmp_path: Path, text: str, key: str, hint: str
) -> None:
    path = write(tmp_path, text)
    outcome = invoke("run", path, "--dry-run")
    assert outcome.code == 2, outcome.err
    assert f"{path}: key {key!r}: " in outcome.err
    assert hint in outcome.err

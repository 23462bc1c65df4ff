"""Building an evaluation's command line: crayai's ``flag=value``, always shell-quoted."""

from __future__ import annotations

import shlex
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hyperdeme._engine._command import build_command, format_value, hyperparameter_args


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3, "3"),
        (-7, "-7"),
        (0.1, "0.1"),
        (1e-05, "1e-05"),
        (2.0, "2.0"),
        (True, "True"),
        ("relu", "relu"),
        ("", ""),
        ([1, 2], "[1, 2]"),
        (None, "null"),
    ],
)
def test_values_are_written_in_their_shortest_exact_form(value: Any, text: str) -> None:
    assert format_value(value) == text


def test_floats_round_trip() -> None:
    value = 0.1 + 0.2
    assert float(format_value(value)) == value


def test_numpy_scalars_are_written_as_plain_numbers() -> None:
    np = pytest.importorskip("numpy")
    assert format_value(np.float64(0.25)) == "0.25"
    assert format_value(np.int64(7)) == "7"
    assert format_value(np.bool_(True)) == "True"


def test_each_parameter_is_one_flag_equals_value_argument() -> None:
    assert hyperparameter_args({"--x": 0.5, "-n": 3, "--act": "relu"}) == [
        "--x=0.5",
        "-n=3",
        "--act=relu",
    ]


def test_a_flag_with_a_space_splits_into_a_prefix_and_the_assignment() -> None:
    assert hyperparameter_args({"--optimizer lr": 0.1}) == ["--optimizer", "lr=0.1"]


def test_command_appends_quoted_arguments_to_the_users_command() -> None:
    command = build_command("python3 train.py --epochs 3", {"--x": 0.5, "--act": "a b"})
    assert command == "python3 train.py --epochs 3 --x=0.5 '--act=a b'"
    assert shlex.split(command) == ["python3", "train.py", "--epochs", "3", "--x=0.5", "--act=a b"]


def test_no_parameters_leaves_the_command_as_written() -> None:
    assert build_command("python3 train.py | tee log", {}) == "python3 train.py | tee log"


def test_shell_metacharacters_in_a_value_stay_one_literal_argument() -> None:
    evil = "; touch /tmp/pwned $(id) `id` && echo '\"'"
    command = build_command("prog", {"--opt": evil})
    assert shlex.split(command) == ["prog", f"--opt={evil}"]


@given(st.dictionaries(st.from_regex(r"--[a-z]{1,8}", fullmatch=True), st.text(), max_size=5))
def test_any_string_value_survives_the_shell_unchanged(params: dict[str, str]) -> None:
    params = {flag: value.replace("\x00", "") for flag, value in params.items()}
    words = shlex.split(build_command("prog", params))
    assert words == ["prog", *(f"{flag}={value}" for flag, value in params.items())]


def test_the_nodes_flag_is_added_when_no_parameter_sets_it() -> None:
    assert build_command("prog", {"--x": 1}, nodes_flag="--N", nodes=4) == "prog --x=1 --N=4"
    assert build_command("prog", {"--N": 2}, nodes_flag="--N", nodes=4) == "prog --N=2"


def test_checkpoint_token_becomes_the_quoted_directory() -> None:
    command = build_command(
        "prog --ckpt @checkpoint", {"--x": 1}, checkpoint_dir="/runs/my exp/00001"
    )
    assert command == "prog --ckpt '/runs/my exp/00001' --x=1"
    assert build_command("prog --ckpt @checkpoint", {}) == "prog --ckpt @checkpoint"


#: directories a checkpoint may live in: spaces, both quotes, the shell's specials
AWKWARD_DIRS = [
    "/runs/my exp/00001",
    "/runs/it's/00001",
    '/runs/say "hi"/00001',
    "/runs/$HOME `id` \\n/00001",
    "/runs/a'b\"c$d`e\\f g/00001",
]
#: the command as a user writes it -> the arguments the program must receive ({} the directory)
PLACES = {
    "--ckpt @checkpoint": ["--ckpt", "{}"],
    '--ckpt="@checkpoint"': ["--ckpt={}"],
    "'@checkpoint/model.pt'": ["{}/model.pt"],
    '"@checkpoint/model.pt"': ["{}/model.pt"],
    "--ckpt=@checkpoint/x": ["--ckpt={}/x"],
    "\"a 'quoted' @checkpoint\"": ["a 'quoted' {}"],
    "'say \"@checkpoint\"'": ['say "{}"'],
    "\\@checkpoint '@checkpoint'": ["@checkpoint", "{}"],
}


@pytest.mark.parametrize("directory", AWKWARD_DIRS)
@pytest.mark.parametrize("written", list(PLACES))
def test_checkpoint_token_is_quoted_for_where_it_stands(directory: str, written: str) -> None:
    """Bare, in double or in single quotes, the program gets the directory as it is
    (issue 18: ``--ckpt="@checkpoint"`` and ``'@checkpoint/x'`` broke the line)."""
    command = build_command(
        f"{sys.executable} -c 'import sys; print(repr(sys.argv[1:]))' {written}",
        {},
        checkpoint_dir=directory,
    )
    done = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == repr([arg.replace("{}", directory) for arg in PLACES[written]])


def test_python_token_becomes_the_drivers_interpreter_quoted() -> None:
    """``@python`` is ``sys.executable`` (the driver's venv), a bare ``python3`` PATH's."""
    assert build_command("@python train.py", {"--x": 1}) == (
        f"{shlex.quote(sys.executable)} train.py --x=1"
    )
    assert build_command("python3 train.py", {}) == "python3 train.py"


@pytest.mark.parametrize(
    "written",
    [
        "@python -c 'import sys; print(sys.executable)'",
        "'@python' -c 'import sys; print(sys.executable)'",
        '"@python" -c "import sys; print(sys.executable)"',
    ],
)
def test_python_token_runs_the_drivers_interpreter_wherever_it_stands(written: str) -> None:
    done = subprocess.run(
        ["/bin/sh", "-c", build_command(written, {})], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == sys.executable


@pytest.mark.parametrize("written", ["@python3 x", "@python_path x", "\\@python x", "a@pythonb"])
def test_python_token_is_a_whole_word_not_escaped(written: str) -> None:
    assert build_command(written, {}) == written

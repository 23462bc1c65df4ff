"""``hyperdeme serve`` as a real process over a real run, and a real headless Chromium
driving one open page: the trial count grows without a reload; hostile values (a flag's
value, a program's output, an experiment's name) are shown as text and run nothing."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from .browser import Browser
from .journals import completed
from .runs import HOSTILE, environment, experiment, kill, start, started_count, wait_until

pytest.importorskip("uvicorn")
pytest.importorskip("starlette")

TRIALS = 12


def serve(run_path: Path, *args: str) -> tuple[subprocess.Popen[bytes], str]:
    """``hyperdeme serve`` on a free port; the process and the address it printed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "hyperdeme", "serve", str(run_path), "--port", "0", *args],
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], 60)
    line = process.stdout.readline().decode() if ready else ""
    if " at http://" not in line:
        stop(process)
        pytest.fail(f"hyperdeme serve printed no address: {line!r}")
    return process, line.split(" at ")[1].split()[0]


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    opened = Browser(tmp_path / "profile")
    try:
        yield opened
    finally:
        opened.close()


def test_the_open_page_follows_the_run_and_shows_hostile_values_as_text(
    tmp_path: Path, browser: Browser
) -> None:
    driver = start(experiment(tmp_path, "live", sleep=1.5, trials=TRIALS, slots=3))
    server, address = None, ""
    try:
        journal = tmp_path / "run" / "live" / "trials.jsonl"
        wait_until(lambda: started_count(journal) >= 1, what="the run's first trial")
        server, address = serve(tmp_path / "run")
        with urllib.request.urlopen(address + "api/experiments", timeout=30) as response:
            listed = json.load(response)["experiments"]
        assert [e["name"] for e in listed] == ["live"]

        browser.open(address + "experiments/live", height=1600)
        browser.wait_for("document.getElementById('live').textContent.startsWith('live')")
        browser.evaluate("window.sameDocument = 'still here'")  # gone if the page reloads
        first = int(browser.evaluate("document.getElementById('done').textContent"))
        assert first < TRIALS, "the run ended before the page opened: make its trials slower"
        browser.wait_for(f"Number(document.getElementById('done').textContent) > {first}")
        assert driver.wait(timeout=180) == 0
        browser.wait_for(
            f"document.getElementById('done').textContent === '{TRIALS}' && "
            "document.getElementById('state').textContent === 'finished' && "
            f"document.querySelectorAll('#trials tbody tr').length === {TRIALS}"
        )
        assert browser.evaluate("window.sameDocument") == "still here"
        assert browser.evaluate("performance.getEntriesByType('navigation').length") == 1

        # the hostile flag value, as text in the table; a click shows the trial's logs
        shown = "[...document.querySelectorAll('#trials td')].filter(td => td.textContent === %s)"
        assert browser.evaluate(f"{shown % json.dumps(HOSTILE)}.length") > 0
        browser.evaluate(f"{shown % json.dumps(HOSTILE)}[0].parentElement.click()")
        browser.wait_for("document.getElementById('detail-stdout').textContent.includes('FoM')")
        stdout = browser.evaluate("document.getElementById('detail-stdout').textContent")
        assert "<img src=x onerror=document.title='pwned-stdout'>" in stdout
        stderr = browser.evaluate("document.getElementById('detail-stderr').textContent")
        assert "<script>document.title='pwned-stderr'</script>" in stderr
        assert HOSTILE in browser.evaluate("document.getElementById('detail-params').textContent")
        # nothing of it became an element, nothing of it ran
        assert browser.evaluate("document.querySelectorAll('img').length") == 0
        assert browser.evaluate("document.scripts.length") == 3
        assert browser.evaluate("document.title") == "hyperdeme: live"
        browser.screenshot(tmp_path / "experiment.png")
        shots = os.environ.get("HYPERDEME_SCREENSHOTS")  # the guide's pictures
        if shots:
            browser.evaluate("window.scrollTo(0, 0)")
            browser.screenshot(Path(shots) / "dashboard-experiment.png")
            browser.open(address, height=300)
            browser.wait_for("document.querySelectorAll('#experiments tbody tr').length")
            browser.screenshot(Path(shots) / "dashboard-front.png")
    finally:
        kill(driver)
        if server is not None:
            stop(server)


def test_a_hostile_experiment_name_is_text_on_the_front_page(
    tmp_path: Path, browser: Browser
) -> None:
    name = "<img src=x onerror=document.title='pwned-name'>"
    completed(tmp_path / "run" / name, 2)
    server, address = serve(tmp_path / "run")
    try:
        browser.open(address)
        browser.wait_for("document.querySelectorAll('#experiments tbody tr').length === 1")
        assert browser.evaluate("document.querySelector('#experiments a').textContent") == name
        assert browser.evaluate("document.querySelectorAll('img').length") == 0
        assert browser.evaluate("document.title") == "hyperdeme: experiments"
    finally:
        stop(server)


def test_with_a_token_a_request_without_it_is_refused(tmp_path: Path) -> None:
    completed(tmp_path / "run" / "a", 1)
    token = "a-token-of-enough-length"
    server, address = serve(tmp_path / "run", "--host", "0.0.0.0", "--token", token)
    try:
        assert address.endswith(f"/?token={token}")
        base = address.split("?")[0].replace("0.0.0.0", "127.0.0.1")
        for path in ("", "api/experiments", "api/experiments/a/events"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(base + path, timeout=30)
            assert refused.value.code == 401
            refused.value.close()
        with urllib.request.urlopen(f"{base}api/experiments?token={token}", timeout=30) as ok:
            assert [e["name"] for e in json.load(ok)["experiments"]] == ["a"]
    finally:
        stop(server)


def test_a_generated_token_is_printed(tmp_path: Path) -> None:
    completed(tmp_path / "run" / "a", 1)
    server, address = serve(tmp_path / "run", "--host", "0.0.0.0", "--token")
    try:
        token = address.split("?token=")[1]
        assert len(token) >= 16
        base = address.split("?")[0].replace("0.0.0.0", "127.0.0.1")
        request = urllib.request.Request(
            base + "api/experiments", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=30) as ok:
            assert ok.status == 200
    finally:
        stop(server)


def test_the_server_stops_promptly_with_an_event_stream_open(tmp_path: Path) -> None:
    completed(tmp_path / "run" / "a", 1)
    server, address = serve(tmp_path / "run")
    stream = urllib.request.urlopen(address + "api/experiments/a/events", timeout=30)
    try:
        assert stream.readline().startswith(b"data: ")
        begun = time.monotonic()
        stop(server)
        assert server.returncode == -signal.SIGTERM  # uvicorn ends by the signal, once shut
        assert time.monotonic() - begun < 20
    finally:
        stream.close()


LONG = "a-rather-long-optimizer-name-with-options"
CHOICES = [LONG, "sgd", "adam-with-warm-restarts"]
PLOT_SPACE = {
    "parameters": [
        {"flag": "--lr", "low": 1e-5, "high": 1.0, "integer": False, "log": True},
        {"flag": "--layers", "low": 1, "high": 6, "integer": True, "log": False},
        {"flag": "--optimizer", "values": CHOICES},
    ],
    "conditions": [],
}


def _plots_journal(directory: Path) -> None:
    """Twelve trials, FoM 0.48 to 9.4 (one round step of 5 would be one tick), long
    choices, intermediate curves (one stopped early), two objectives."""
    fingerprint = {
        "space": PLOT_SPACE,
        "seed": 1,
        "command": "train",
        "objectives": {"loss": "minimize", "size": "minimize"},
    }
    records: list[dict[str, object]] = [
        {"schema": 2, "type": "experiment", "fingerprint": fingerprint}
    ]
    foms = [1.01, 6.72, 1.92, 6.5, 0.48, 0.86, 2.0, 0.83, 0.88, 2.6, 1.14, 9.36]
    for i, fom in enumerate(foms, 1):
        params = {
            "--lr": 10 ** -(i % 5),
            "--layers": 1 + i % 6,
            "--optimizer": CHOICES[i % 3],
        }
        records.append({"schema": 2, "type": "started", "id": i, "genes": params, "info": {}})
        curve = {"1": fom * 3, "2": fom * 2, "3": fom}
        records.append(
            {
                "schema": 2, "type": "trial", "id": i, "params": params, "fom": fom,
                "status": "stopped" if i == 2 else "ok", "started": 1000.0 + i,
                "ended": 1002.0 + i, "duration": 2.0,
                "intermediate": dict(list(curve.items())[: 2 if i == 2 else 3]),
                "objectives": {"loss": fom, "size": 13.0 - i},
            }
        )  # fmt: skip
    directory.mkdir(parents=True)
    lines = "".join(json.dumps(r) + "\n" for r in records)
    (directory / "trials.jsonl").write_text(lines)


def test_the_plots_ticks_labels_curves_and_front(tmp_path: Path, browser: Browser) -> None:
    _plots_journal(tmp_path / "run" / "plots")
    server, address = serve(tmp_path / "run")
    try:
        browser.open(address + "experiments/plots", height=1400)
        browser.wait_for("document.querySelectorAll('#plot-slices svg').length === 3")
        fom_ticks = browser.evaluate(
            "[...document.querySelectorAll('#plot-parallel g.axis[data-axis=FoM] text.tick')]"
            ".map(t => t.textContent)"
        )
        assert len(fom_ticks) >= 2, fom_ticks
        # every label of a slice plot inside its picture (none cut at its left edge)
        outside = browser.evaluate(
            """[...document.querySelectorAll('#plot-slices svg')].flatMap(svg => {
                const box = svg.getBoundingClientRect();
                return [...svg.querySelectorAll('text')].filter(t => {
                    const r = t.getBoundingClientRect();
                    return r.left < box.left - 0.5 || r.right > box.right + 0.5;
                }).map(t => t.textContent);
            })"""
        )
        assert outside == []
        labels = browser.evaluate(
            "[...document.querySelectorAll('#plot-slices svg:last-child text.tick')]"
            ".map(t => t.textContent)"
        )
        assert labels[1] == "sgd"
        assert labels[0].endswith("…")
        assert LONG.startswith(labels[0][:-1])
        # the intermediate curves (ASHA, PBT) and the Pareto front are drawn
        assert browser.evaluate("document.getElementById('fig-curves').hidden") is False
        assert browser.evaluate("document.querySelectorAll('#plot-curves path').length") == 12
        assert browser.evaluate("document.getElementById('fig-front').hidden") is False
        front = "document.querySelectorAll('#plot-front circle[fill=\"#1a237e\"]').length"
        assert browser.evaluate(front) >= 1
        shots = os.environ.get("HYPERDEME_SCREENSHOTS")
        browser.screenshot(Path(shots or tmp_path) / "dashboard-plots.png")
    finally:
        stop(server)

"""The dashboard's application in process: the JSON API, the token, the headers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

pytest.importorskip("starlette")
httpx = pytest.importorskip("httpx")

from hyperdeme._dashboard import _registry  # noqa: E402
from hyperdeme._dashboard._app import COOKIE, CSP, create_app  # noqa: E402
from hyperdeme._dashboard._views import PLOT_LIMIT  # noqa: E402

from .journals import completed, finished, header, line, started, write_journal  # noqa: E402

TOKEN = "0123456789abcdef-token"


@pytest.fixture(autouse=True)
def always_fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_registry, "FRESH", 0.0)  # every request reads the journal


@pytest.fixture
def run_path(tmp_path: Path) -> Path:
    completed(tmp_path / "run" / "alpha", 3)
    write_journal(
        tmp_path / "run" / "<b>bold<i>",
        started(1),
        finished(1, 0.5, error="<script>alert(1)</script>"),
        started(2),
    )
    return tmp_path / "run"


@pytest.fixture
async def client(run_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(run_path, token=None))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as c:
        yield c


async def test_the_experiments_are_listed(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/experiments")
    assert response.status_code == 200
    found = {e["name"]: e for e in response.json()["experiments"]}
    assert sorted(found) == ["<b>bold<i>", "alpha"]
    assert (found["alpha"]["done"], found["alpha"]["best_fom"], found["alpha"]["state"]) == (
        3,
        1.0,
        "finished",
    )
    assert found["<b>bold<i>"]["state"] == "interrupted"


async def test_every_response_has_a_strict_content_security_policy(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/", "/experiments/alpha", "/api/experiments", "/static/experiment.js", "/x"):
        response = await client.get(path)
        policy = response.headers["content-security-policy"]
        assert policy == CSP, path
        assert "script-src 'self'" in CSP
        assert "default-src 'none'" in CSP
        assert "unsafe-inline" not in policy
        assert response.headers["referrer-policy"] == "no-referrer"


async def test_one_experiment_and_its_trials(client: httpx.AsyncClient) -> None:
    view = (await client.get("/api/experiments/alpha")).json()
    assert [p["id"] for p in view["points"]] == [1, 2, 3]
    assert view["space"][0]["log"] is True
    assert view["best_so_far"][0][1:] == [1.0, 1]
    page = (await client.get("/api/experiments/alpha/trials?sort=fom&order=desc&limit=2")).json()
    assert (page["total"], [t["id"] for t in page["trials"]]) == (3, [3, 2])
    page = (await client.get("/api/experiments/alpha/trials?offset=2&sort=id")).json()
    assert [t["id"] for t in page["trials"]] == [3]
    assert (await client.get("/api/experiments/alpha/trials?limit=0")).status_code == 400
    assert (await client.get("/api/experiments/nope")).status_code == 404
    assert (await client.get("/api/experiments/alpha/trials/9")).status_code == 404


async def test_a_trial_shows_its_logs_ends(client: httpx.AsyncClient, run_path: Path) -> None:
    logs = run_path / "alpha" / "00002"
    logs.mkdir()
    (logs / "stdout.log").write_text("x" * 20000 + "<img src=x onerror=alert(1)> the end\n")
    (logs / "stderr.log").symlink_to("/etc/hostname")  # planted: never followed
    trial = (await client.get("/api/experiments/alpha/trials/2")).json()
    assert trial["stdout"].endswith("<img src=x onerror=alert(1)> the end\n")
    assert len(trial["stdout"]) == 16 * 1024
    assert trial["stderr"] == ""
    running = (await client.get("/api/experiments/%3Cb%3Ebold%3Ci%3E/trials/2")).json()
    assert running["status"] == "running"


async def test_the_journal_is_followed_and_a_torn_line_waits(
    client: httpx.AsyncClient, run_path: Path
) -> None:
    journal = run_path / "alpha" / "trials.jsonl"
    whole = line(started(4)) + line(finished(4, 0.25))
    with journal.open("ab") as handle:
        handle.write(whole[:-7])
    summary = (await client.get("/api/experiments/alpha")).json()["summary"]
    assert (summary["done"], summary["best_fom"]) == (3, 1.0)
    with journal.open("ab") as handle:
        handle.write(whole[-7:])
    summary = (await client.get("/api/experiments/alpha")).json()["summary"]
    assert (summary["done"], summary["best_fom"]) == (4, 0.25)


async def test_a_large_experiment_is_sampled_for_its_plots(tmp_path: Path) -> None:
    completed(tmp_path / "run" / "big", PLOT_LIMIT + 500)
    transport = httpx.ASGITransport(app=create_app(tmp_path / "run", token=None))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        view = (await client.get("/api/experiments/big")).json()
    assert (view["sampled"], view["summary"]["done"]) == (PLOT_LIMIT, PLOT_LIMIT + 500)
    ids = [p["id"] for p in view["points"]]
    assert ids[: PLOT_LIMIT // 2] == list(range(1, PLOT_LIMIT // 2 + 1))  # the best half
    assert max(ids) > PLOT_LIMIT  # and a spread over the whole run


async def test_a_foreign_host_name_is_refused_without_a_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/experiments", headers={"Host": "attacker.example"})
    assert response.status_code == 400


async def test_with_a_token_every_request_needs_it(run_path: Path) -> None:
    transport = httpx.ASGITransport(app=create_app(run_path, token=TOKEN))
    async with httpx.AsyncClient(transport=transport, base_url="http://10.1.2.3:8080") as client:
        for path in ("/", "/api/experiments", "/api/experiments/alpha/events", "/static/index.js"):
            assert (await client.get(path)).status_code == 401, path
        assert (await client.get("/api/experiments?token=wrong")).status_code == 401
        assert (await client.get("/api/experiments?token=ünïcode")).status_code == 401
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        assert (await client.get("/api/experiments", headers=bearer)).status_code == 200
        first = await client.get(f"/?token={TOKEN}")
        assert first.status_code == 200
        assert f"{COOKIE}={TOKEN}" in first.headers["set-cookie"]
        assert "HttpOnly" in first.headers["set-cookie"]
        # the cookie now rides along: the page's own requests need no token in them
        assert (await client.get("/api/experiments/alpha")).status_code == 200


async def test_the_plot_data_curves_gaps_stopped_trials_and_the_front(tmp_path: Path) -> None:
    objectives = {"loss": "minimize", "size": "minimize"}
    write_journal(
        tmp_path / "run" / "e",
        header(objectives=objectives),
        started(1),
        finished(1, 0.9, intermediate={"1": 2.0, "2": 0.9}, objectives={"loss": 1, "size": 3}),
        started(2),
        finished(2, 0.3, "stopped", intermediate={"1": 0.3}, objectives={"loss": 3, "size": 1}),
        started(3),
        # a stop and a resume: nothing ran for an hour before trial 3
        finished(3, 0.5, started=5000.0, ended=5001.0, objectives={"loss": 4, "size": 4}),
    )
    transport = httpx.ASGITransport(app=create_app(tmp_path / "run", token=None))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        view = (await client.get("/api/experiments/e")).json()
    assert view["curves"] == {"1": [[1, 2.0], [2, 0.9]], "2": [[1, 0.3]]}
    stopped = next(p for p in view["points"] if p["id"] == 2)
    assert (stopped["status"], stopped["fom"]) == ("stopped", 0.3)  # at its FoM
    assert view["gaps"] == [[1003.0, 5000.0]]
    assert view["front"] == [1]  # trial 2 stopped: not a result; trial 3 dominated


async def test_the_table_sorts_on_a_flag_and_refuses_an_unknown_key(
    client: httpx.AsyncClient, run_path: Path
) -> None:
    lrs = {1: 0.5, 2: "text", 3: None, 4: 0.01, 5: 0.2}  # None: a trial without --lr
    records = []
    for i, lr in lrs.items():
        params = {"--tag": "a"} if lr is None else {"--lr": lr, "--tag": "a"}
        records += [started(i), finished(i, 1.0, params=params)]
    write_journal(run_path / "mixed", *records)
    page = (await client.get("/api/experiments/mixed/trials?sort=--lr")).json()
    assert [t["id"] for t in page["trials"]] == [4, 5, 1, 2, 3]  # numbers, text, none
    assert page["trials"][-1]["params"] == {"--tag": "a"}
    for key in ("status", "duration", "ended"):
        page = (await client.get(f"/api/experiments/alpha/trials?sort={key}")).json()
        assert [t["id"] for t in page["trials"]] == [1, 2, 3], key
    page = (await client.get("/api/experiments/%3Cb%3Ebold%3Ci%3E/trials?sort=error")).json()
    assert page["trials"][0]["error"] == "<script>alert(1)</script>"
    write_journal(
        run_path / "errors",
        *[
            r
            for i, e in ((1, "b"), (2, ""), (3, "a"))
            for r in (started(i), finished(i, 1, error=e))
        ],
    )
    page = (await client.get("/api/experiments/errors/trials?sort=error&order=desc")).json()
    assert [t["id"] for t in page["trials"]] == [1, 3, 2]
    refused = await client.get("/api/experiments/alpha/trials?sort=--nope")
    assert refused.status_code == 400
    assert "--nope" in refused.json()["error"]


async def test_a_trials_details_are_read_back_from_the_journal(tmp_path: Path) -> None:
    write_journal(
        tmp_path / "run" / "e",
        started(1),
        finished(1, 0.5, command="train --lr 0.1", intermediate={"1": 2.0}, error="x" * 500),
    )
    app = create_app(tmp_path / "run", token=None)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        trial = (await client.get("/api/experiments/e/trials/1")).json()
        row = (await client.get("/api/experiments/e/trials")).json()["trials"][0]
    assert (trial["command"], trial["intermediate"]) == ("train --lr 0.1", {"1": 2.0})
    assert trial["error"] == "x" * 500  # whole, where the table's row has its start
    assert row["error"] == "x" * 200
    rows = app.state.registry._followers["e"].rows
    assert rows.params == [(0.1, "a")]  # a row of values, not a dict or a Trial per trial


async def test_a_page_asked_during_a_long_read_gets_what_was_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hyperdeme._dashboard import _follow

    monkeypatch.setattr(_follow, "CHUNK", 2000)  # a slice: about ten trials
    monkeypatch.setattr(_registry, "HOLD", 0.0)  # one slice per hold of the lock
    monkeypatch.setattr(_registry, "BUDGET", 0.0)  # one hold, then the background
    completed(tmp_path / "run" / "big", 300)
    app = create_app(tmp_path / "run", token=None)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        async with anyio.create_task_group() as group:
            app.state.registry.background = group
            first = (await client.get("/api/experiments/big")).json()["summary"]
            assert first["reading"] is True
            assert 0 < first["done"] < 300
        # the background read ended with the group
        summary = (await client.get("/api/experiments/big")).json()["summary"]
    assert (summary["reading"], summary["done"]) == (False, 300)


async def test_the_event_stream_says_when_the_read_ended(
    run_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hyperdeme._dashboard import _app

    monkeypatch.setattr(_app, "EVENT_PERIOD", 0.0)
    registry = _registry.Registry(run_path)
    follower = await registry.get("alpha")
    assert follower is not None
    registry._reading.add("alpha")  # as a background read does
    stream = _app._Endpoints(registry)._stream("alpha")
    try:
        first = await stream.__anext__()
        assert first.startswith("data: ")
        assert '"reading": true' in first
        assert await stream.__anext__() == ": idle\n\n"
        registry._reading.discard("alpha")  # the read ended: the journal did not grow
        last = await stream.__anext__()
        assert '"reading": false' in last
        assert '"done": 3' in last
    finally:
        await stream.aclose()


async def test_the_start_reads_every_experiment_at_once_in_the_background(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hyperdeme._dashboard import _follow

    monkeypatch.setattr(_follow, "CHUNK", 2000)
    monkeypatch.setattr(_registry, "HOLD", 0.0)
    for name in ("one", "two"):
        completed(tmp_path / "run" / name, 300)
    app = create_app(tmp_path / "run", token=None)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        registry = app.state.registry
        registry.names()
        locks = [registry._locks[name] for name in ("one", "two")]
        for lock in locks:  # the reads wait until the page was answered
            await lock.acquire()
        async with anyio.create_task_group() as group:
            registry.start(group)  # the server's start
            listed = (await client.get("/api/experiments")).json()["experiments"]
            assert [(e["name"], e["reading"], e["done"]) for e in listed] == [
                ("one", True, 0),
                ("two", True, 0),
            ]
            for lock in locks:
                lock.release()
        # the group waited for the start's read
        listed = (await client.get("/api/experiments")).json()["experiments"]
    assert [(e["done"], e["reading"]) for e in listed] == [(300, False), (300, False)]

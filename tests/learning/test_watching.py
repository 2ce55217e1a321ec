"""No-skip learning: credit follows the wall clock; seeks, rewinds, fast playback, replays and a second
browser are refused, recorded, and credit nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import select

from services.context import Backend
from services.settings import Settings
from storage.models import EnrolmentCourse, RejectedReport, WatchSession
from tests.conftest import FakeClock
from tests.learning.conftest import COURSE_SECONDS, Trainee, enrol, make_trainee

pytestmark = pytest.mark.usefixtures("catalog")


async def start(
    client: httpx.AsyncClient, trainee: Trainee, enrolment_id: int, seq: int = 1
) -> dict[str, Any]:
    answer = await client.post(
        f"/api/learning/enrolments/{enrolment_id}/courses/{seq}/watch", headers=trainee.headers
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


async def beat(
    client: httpx.AsyncClient, trainee: Trainee, session_id: str, seq: int, position: float, rate: float = 1.0
) -> httpx.Response:
    return await client.post(
        f"/api/learning/watch/{session_id}/heartbeats",
        json={"seq": seq, "position": position, "rate": rate},
        headers=trainee.headers,
    )


async def credited(backend: Backend, enrolment_id: int, seq: int = 1) -> float:
    async with backend.sessions() as session:
        value = await session.scalar(
            select(EnrolmentCourse.credited_seconds).where(
                EnrolmentCourse.enrolment_id == enrolment_id, EnrolmentCourse.seq == seq
            )
        )
    assert value is not None
    return value


async def rejections(backend: Backend) -> list[str]:
    async with backend.sessions() as session:
        return list(await session.scalars(select(RejectedReport.reason).order_by(RejectedReport.id)))


async def watching(
    client: httpx.AsyncClient, backend: Backend
) -> tuple[Trainee, dict[str, Any], dict[str, Any]]:
    trainee = await make_trainee(client, backend)
    order = await enrol(client, trainee, trainee.certificates[0])
    return trainee, order, await start(client, trainee, order["id"])


async def test_honest_watching_is_credited_and_resumes(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock
) -> None:
    trainee, order, watch = await watching(client, backend)
    assert watch["resume_at"] == 0 and watch["media_url"].startswith("/learning/media/")
    for seq in range(1, 4):
        clock.advance(seconds=5)
        answer = await beat(client, trainee, watch["session_id"], seq, 5.0 * seq)
        assert answer.status_code == 200, answer.text
    assert answer.json()["credited_seconds"] == 15
    assert await credited(backend, order["id"]) == 15

    # The trainee leaves and comes back later: the new session starts where the credit stopped.
    clock.advance(hours=3)
    again = await start(client, trainee, order["id"])
    assert again["resume_at"] == 15
    clock.advance(seconds=5)
    assert (await beat(client, trainee, again["session_id"], 1, 20.0)).status_code == 200
    assert await rejections(backend) == []


async def test_course_completes_when_its_duration_is_credited(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock
) -> None:
    trainee, order, watch = await watching(client, backend)
    position, seq = 0.0, 0
    while position < COURSE_SECONDS:
        clock.advance(seconds=5)
        seq += 1
        position = min(position + 5, COURSE_SECONDS)
        answer = await beat(client, trainee, watch["session_id"], seq, position)
        assert answer.status_code == 200, answer.text
    assert answer.json()["course_completed"] is True
    detail = (await client.get(f"/api/learning/enrolments/{order['id']}", headers=trainee.headers)).json()
    assert detail["courses"][0]["completed"] is True and detail["courses"][1]["completed"] is False

    # A finished course takes no more reports and cannot be started again before the whole order is done.
    clock.advance(seconds=5)
    late = await beat(client, trainee, watch["session_id"], seq + 1, COURSE_SECONDS)
    assert late.status_code == 409 and late.json()["error"]["code"] == "course_finished"
    replay = await client.post(
        f"/api/learning/enrolments/{order['id']}/courses/1/watch", headers=trainee.headers
    )
    assert replay.status_code == 409


async def test_forward_seek_is_refused_and_recorded(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock
) -> None:
    trainee, order, watch = await watching(client, backend)
    clock.advance(seconds=5)
    answer = await beat(client, trainee, watch["session_id"], 1, 40.0)
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "seek_forward"
    assert "快进" in answer.json()["error"]["message"]
    assert await credited(backend, order["id"]) == 0
    assert await rejections(backend) == ["seek_forward"]
    # Watching on from the credited position still works.
    clock.advance(seconds=5)
    assert (await beat(client, trainee, watch["session_id"], 2, 5.0)).status_code == 200


async def test_more_than_the_wall_clock_is_refused(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock
) -> None:
    trainee, order, watch = await watching(client, backend)
    clock.advance(seconds=3)
    fast = await beat(client, trainee, watch["session_id"], 1, 9.0)
    assert fast.status_code == 409 and fast.json()["error"]["code"] == "faster_than_wall_clock"
    assert await credited(backend, order["id"]) == 0

    # Each report within its own tolerance, but the session as a whole ahead of the clock, even by
    # a fraction of a second.
    clock.advance(seconds=2)
    assert (await beat(client, trainee, watch["session_id"], 2, 5.0)).status_code == 200
    clock.advance(seconds=5)
    ahead = await beat(client, trainee, watch["session_id"], 3, 10.5)
    assert ahead.status_code == 409 and ahead.json()["error"]["code"] == "faster_than_wall_clock"
    assert await credited(backend, order["id"]) == 5
    assert await rejections(backend) == ["faster_than_wall_clock", "faster_than_wall_clock"]


async def test_rewind_and_fast_playback_are_refused(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock
) -> None:
    trainee, order, watch = await watching(client, backend)
    clock.advance(seconds=5)
    assert (await beat(client, trainee, watch["session_id"], 1, 5.0)).status_code == 200
    clock.advance(seconds=5)
    assert (await beat(client, trainee, watch["session_id"], 2, 10.0)).status_code == 200
    clock.advance(seconds=5)
    back = await beat(client, trainee, watch["session_id"], 3, 1.0)
    assert back.status_code == 409 and back.json()["error"]["code"] == "rewind"
    double = await beat(client, trainee, watch["session_id"], 4, 15.0, rate=2.0)
    assert double.status_code == 422 and double.json()["error"]["code"] == "playback_rate"
    assert await credited(backend, order["id"]) == 10
    assert await rejections(backend) == ["rewind", "playback_rate"]


async def test_replayed_out_of_order_and_absurd_reports(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock
) -> None:
    trainee, order, watch = await watching(client, backend)
    sid = watch["session_id"]
    clock.advance(seconds=5)
    assert (await beat(client, trainee, sid, 2, 5.0)).status_code == 200
    clock.advance(seconds=5)
    replayed = await beat(client, trainee, sid, 2, 10.0)
    assert replayed.status_code == 409 and replayed.json()["error"]["code"] == "replayed"
    older = await beat(client, trainee, sid, 1, 10.0)
    assert older.status_code == 409 and older.json()["error"]["code"] == "out_of_order"
    negative = await beat(client, trainee, sid, 3, -5.0)
    assert negative.status_code == 422 and negative.json()["error"]["code"] == "invalid_position"
    huge = await beat(client, trainee, sid, 4, 1e300)
    assert huge.status_code == 422 and huge.json()["error"]["code"] == "invalid_position"
    assert await credited(backend, order["id"]) == 5
    assert await rejections(backend) == ["replayed", "out_of_order", "invalid_position", "invalid_position"]


async def test_someone_elses_session_is_refused(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock
) -> None:
    owner, order, watch = await watching(client, backend)
    other = await make_trainee(client, backend)
    clock.advance(seconds=5)
    answer = await beat(client, other, watch["session_id"], 1, 5.0)
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "not_your_session"
    assert await credited(backend, order["id"]) == 0
    foreign = await client.post(
        f"/api/learning/enrolments/{order['id']}/courses/1/watch", headers=other.headers
    )
    assert foreign.status_code == 404
    assert (await beat(client, owner, watch["session_id"], 1, 5.0)).status_code == 200
    unknown = await beat(client, owner, "0" * 32, 2, 5.0)
    assert unknown.status_code == 404


async def test_second_browser_ends_the_first(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock
) -> None:
    trainee, order, first = await watching(client, backend)
    clock.advance(seconds=5)
    assert (await beat(client, trainee, first["session_id"], 1, 5.0)).status_code == 200
    second = await start(client, trainee, order["id"], seq=2)
    clock.advance(seconds=5)
    stale = await beat(client, trainee, first["session_id"], 2, 10.0)
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "concurrent_session"
    assert (await beat(client, trainee, second["session_id"], 1, 5.0)).status_code == 200
    assert await credited(backend, order["id"], seq=1) == 5
    assert await credited(backend, order["id"], seq=2) == 5
    assert await rejections(backend) == ["concurrent_session"]


async def test_time_scale_credits_faster_for_tests_only(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock, tmp_path: Path
) -> None:
    backend.settings = backend.settings.model_copy(update={"learning_time_scale": 10.0})
    trainee, order, watch = await watching(client, backend)
    clock.advance(seconds=5)
    answer = await beat(client, trainee, watch["session_id"], 1, 50.0, rate=10.0)
    assert answer.status_code == 200, answer.text
    assert await credited(backend, order["id"]) == 50
    with pytest.raises(ValidationError, match="LEARNING_TIME_SCALE"):
        Settings(env="prod", secret_key="x" * 40, learning_time_scale=10, data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]


async def test_two_copies_of_a_report_at_once_credit_once(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock
) -> None:
    trainee, order, watch = await watching(client, backend)
    clock.advance(seconds=5)
    answers = await asyncio.gather(*(beat(client, trainee, watch["session_id"], 1, 5.0) for _ in range(4)))
    assert sorted(answer.status_code for answer in answers) == [200, 409, 409, 409]
    async with backend.sessions() as session:
        in_session = await session.scalar(
            select(WatchSession.credited_in_session).where(WatchSession.public_id == watch["session_id"])
        )
    assert in_session == 5
    assert await credited(backend, order["id"]) == 5
    assert await rejections(backend) == ["replayed"] * 3


async def test_reopening_the_course_grants_no_credit_beyond_the_wall_clock(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock
) -> None:
    """The curl loop of the cheat: open the course, report a little ahead at once, again and again."""
    trainee, order, _ = await watching(client, backend)
    spent = 0.0
    for _ in range(40):
        opened = await client.post(
            f"/api/learning/enrolments/{order['id']}/courses/1/watch", headers=trainee.headers
        )
        if opened.status_code == 409:  # the course was credited in full
            break
        watch = opened.json()
        clock.advance(seconds=0.25)
        spent += 0.25
        await beat(client, trainee, watch["session_id"], 1, watch["resume_at"] + 1.99)
    assert await credited(backend, order["id"]) <= spent
    detail = (await client.get(f"/api/learning/enrolments/{order['id']}", headers=trainee.headers)).json()
    assert detail["courses"][0]["completed"] is False


async def test_credit_over_many_sessions_never_exceeds_the_time_spent_in_them(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock
) -> None:
    """Every session reports its own elapsed time plus the old tolerance; the sum stays behind the clock."""
    trainee, order, _ = await watching(client, backend)
    spent = 0.0
    for round_ in range(12):
        watch = await start(client, trainee, order["id"])
        in_session = 0.0
        for seq, step in enumerate((1.0, 3.0, 0.5), start=1):
            clock.advance(seconds=step)
            spent += step
            in_session += step
            position = watch["resume_at"] + in_session + 1.99
            await beat(client, trainee, watch["session_id"], seq + 10 * round_, position)
        assert await credited(backend, order["id"]) <= spent
    async with backend.sessions() as session:
        in_sessions = sum(await session.scalars(select(WatchSession.credited_in_session)))
    assert in_sessions == await credited(backend, order["id"])


async def test_honest_watching_over_many_sessions_is_credited_exactly(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock
) -> None:
    """A learner who stops and comes back, on a network that loses reports, gets exactly what was watched."""
    trainee, order, _ = await watching(client, backend)
    watched = 0.0
    for _ in range(3):
        watch = await start(client, trainee, order["id"])
        assert watch["resume_at"] == watched
        # The video starts a moment after the session opens; the reports at 10 s and 15 s are lost.
        clock.advance(seconds=0.4)
        for seq, played, step in ((1, 5.0, 5.0), (4, 20.0, 15.0)):
            clock.advance(seconds=step)
            answer = await beat(client, trainee, watch["session_id"], seq, watched + played)
            assert answer.status_code == 200, answer.text
        watched += 20.0
        clock.advance(minutes=20)
    assert await credited(backend, order["id"]) == watched == COURSE_SECONDS
    assert await rejections(backend) == []


async def test_a_late_report_after_a_network_stall_is_credited(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock
) -> None:
    """Reports lost in a stall: the next one moved no further than the time since the last accepted one."""
    trainee, order, watch = await watching(client, backend)
    clock.advance(seconds=5)
    assert (await beat(client, trainee, watch["session_id"], 1, 5.0)).status_code == 200
    clock.advance(seconds=20)
    late = await beat(client, trainee, watch["session_id"], 5, 25.0)
    assert late.status_code == 200, late.text
    assert late.json()["credited_seconds"] == 25
    # A jump beyond the time that passed is still a seek.
    clock.advance(seconds=15)
    seek = await beat(client, trainee, watch["session_id"], 6, 55.0)
    assert seek.status_code == 409 and seek.json()["error"]["code"] == "seek_forward"
    assert await credited(backend, order["id"]) == 25
    assert await rejections(backend) == ["seek_forward"]


async def test_a_report_held_up_on_the_way_and_the_next_one_at_once_are_credited(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock
) -> None:
    """The player sends its next report as soon as a slow one is answered: that one moved by the whole
    delay, in no time since the slow one arrived; it was honest all the same."""
    trainee, order, watch = await watching(client, backend)
    clock.advance(seconds=5)
    assert (await beat(client, trainee, watch["session_id"], 1, 5.0)).status_code == 200
    clock.advance(seconds=19)  # the report made at 10 s arrives at 24 s
    assert (await beat(client, trainee, watch["session_id"], 2, 10.0)).status_code == 200
    caught_up = await beat(client, trainee, watch["session_id"], 3, 24.0)
    assert caught_up.status_code == 200, caught_up.text
    assert await credited(backend, order["id"]) == 24
    assert await rejections(backend) == []

"""The platform's rules as plain functions: which cycles are offered, and whether a heartbeat is credited.

No database here, so every anti-cheating rule is visible in one place:
- credit only what the wall clock allows: over the session, the time since it began (times the
  test-only time scale) and not a fraction of a second more, so that the credit of a course never
  exceeds the time its sessions lasted however often it is reopened; per report, the time since the
  accepted report before the last one arrived (the player sends a report only once the previous one
  is answered, so it was at the credited position no earlier than that, however late that answer
  came), plus a small tolerance. Reports lost or delayed in a network stall are thus no seek;
- a refused jump of more than two heartbeat intervals is a forward seek, a smaller one too fast;
- no forward seek past the credited position, no rewind before the course is complete;
- no playback rate above 1 (times the test-only time scale) until the whole order is complete;
- reports in order: a sequence number already seen is a replay;
- a session another start has replaced is over.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

from services.settings import Settings

COMPLETION_SLACK_SECONDS = 0.5


def offered_cycles(today: date) -> list[int]:
    """Cycles are calendar years; only this year and the previous one, never a future year."""
    return [today.year, today.year - 1]


@dataclass(frozen=True)
class HeartbeatPolicy:
    interval: float
    tolerance: float
    scale: float

    @classmethod
    def from_settings(cls, settings: Settings) -> HeartbeatPolicy:
        return cls(
            interval=settings.learning_heartbeat_seconds,
            tolerance=settings.learning_heartbeat_tolerance_seconds,
            scale=settings.learning_time_scale,
        )


@dataclass(frozen=True)
class SessionState:
    """What the server knows when a report arrives."""

    ended: bool
    free_replay: bool
    course_complete: bool
    duration: float
    credited: float
    last_seq: int
    last_report_at: datetime
    previous_report_at: datetime
    started_at: datetime
    credited_in_session: float


@dataclass(frozen=True)
class Report:
    seq: int
    position: float
    rate: float


@dataclass(frozen=True)
class Credit:
    """An accepted report: the new credited position, and whether the course is now complete."""

    position: float
    gained: float
    completes: bool


@dataclass(frozen=True)
class Refusal:
    reason: str
    status: int
    message: str


def _refuse(reason: str, status: int, message: str) -> Refusal:
    return Refusal(reason=reason, status=status, message=message)


REPLACED = _refuse("concurrent_session", 409, "您已在别的地方开始学习，这里的播放已停止，学时不会重复计算")
FINISHED = _refuse("course_finished", 409, "这门课已经学完了，请学下一门")
REPLAYED = _refuse("replayed", 409, "这条学习进度已经上报过了")
OUT_OF_ORDER = _refuse("out_of_order", 409, "学习进度上报的顺序不对")
BAD_POSITION = _refuse("invalid_position", 422, "播放位置不对")
FAST_RATE = _refuse("playback_rate", 422, "不能倍速播放，请用正常速度观看")
REWIND = _refuse("rewind", 409, "课程学完之前不能后退，请从上次学到的位置继续观看")
SEEK = _refuse("seek_forward", 409, "不能快进，请从上次学到的位置继续观看")
TOO_FAST = _refuse("faster_than_wall_clock", 409, "学习进度比实际经过的时间还快，这段不计学时")


def judge(state: SessionState, report: Report, *, now: datetime, policy: HeartbeatPolicy) -> Credit | Refusal:
    """Credit the report, or say why not. Nothing is credited beyond what the wall clock allows."""
    if state.course_complete and not state.free_replay:
        return FINISHED
    if state.ended:
        return REPLACED
    if report.seq == state.last_seq:
        return REPLAYED
    if report.seq < state.last_seq:
        return OUT_OF_ORDER
    if (
        not math.isfinite(report.position)
        or report.position < 0
        or report.position > state.duration + policy.tolerance
    ):
        return BAD_POSITION
    if state.free_replay:
        return Credit(position=state.credited, gained=0.0, completes=False)
    if not math.isfinite(report.rate) or report.rate <= 0 or report.rate > policy.scale + 1e-9:
        return FAST_RATE
    gain = min(report.position, state.duration) - state.credited
    if gain < -policy.tolerance:
        return REWIND
    gain = max(gain, 0.0)
    # Refused beyond what the clock allows: a jump of more than two intervals can only be a seek.
    ahead = SEEK if gain > 2 * policy.interval * policy.scale + policy.tolerance else TOO_FAST
    since_previous = max((now - state.previous_report_at).total_seconds(), 0.0)
    if gain > since_previous * policy.scale + policy.tolerance:
        return ahead
    # No tolerance here: it would be granted again by every reopening of the course. The player
    # starts playing only after the session has begun, so an honest position is never ahead.
    allowed = max((now - state.started_at).total_seconds(), 0.0) * policy.scale - state.credited_in_session
    if gain > allowed:
        return ahead
    position = state.credited + gain
    # The last fraction of a second is given to finish the course only when the clock allows it too.
    completes = (
        position >= state.duration - COMPLETION_SLACK_SECONDS and state.duration - state.credited <= allowed
    )
    if completes:
        gain = state.duration - state.credited
        position = float(state.duration)
    return Credit(position=position, gained=gain, completes=completes)

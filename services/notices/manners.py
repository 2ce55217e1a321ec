"""When a person may be told something: never at night in China, at most one reminder a day.

Kept apart from the delivery so the backend, which owns the clock of record, decides it once for
every process that asks."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")
MORNING = time(8, 0)
EVENING = time(21, 0)

COMPLETION = "completion"
BROADCAST = "broadcast"
REMINDERS = ("cycle_end", "idle", "retry", "photo", "ecert")
KINDS = (COMPLETION, BROADCAST, *REMINDERS)


Quiet = tuple[time, time] | None  # from, until (China time); None: never quiet
QUIET_HOURS: Quiet = (EVENING, MORNING)


def quiet_hours(setting: str) -> Quiet:
    """`JIANPEI_NOTICES_QUIET_HOURS` ("21:00-08:00", or empty for none) as times."""
    if not setting:
        return None
    start, _, end = setting.partition("-")
    return time.fromisoformat(start), time.fromisoformat(end)


def is_quiet(now: datetime, hours: Quiet = QUIET_HOURS) -> bool:
    """Within the quiet hours (21:00-08:00 China time unless configured): nothing is sent,
    everything waits for the morning."""
    if hours is None:
        return False
    start, end = hours
    local = now.astimezone(CHINA).time()
    if start <= end:
        return start <= local < end
    return local >= start or local < end


def china_day_start(now: datetime) -> datetime:
    local = now.astimezone(CHINA)
    return datetime.combine(local.date(), time(0, 0), CHINA)


def next_morning(now: datetime) -> datetime:
    """08:00 China time of the next day: when a reminder held by the daily limit may go."""
    return datetime.combine(now.astimezone(CHINA).date() + timedelta(days=1), MORNING, CHINA)


def honours_opt_out(kind: str) -> bool:
    """Completion notices are always sent; reminders and broadcasts respect 退订提醒."""
    return kind != COMPLETION


def is_reminder(kind: str) -> bool:
    return kind in REMINDERS

"""When staff are at the desk, in China time (no daylight saving): out of these hours a trainee who
asks for a person is told when staff are back, and the request waits in the queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

CHINA = timezone(timedelta(hours=8), "北京时间")
WEEKDAYS = "一二三四五六日"


@dataclass(frozen=True)
class WorkingHours:
    start: time
    end: time
    days: frozenset[int]  # ISO weekdays, 1 = Monday

    @classmethod
    def parse(cls, hours: str, days: str) -> WorkingHours:
        """`08:30-17:30` and `1-5` (or `1,3,5`, `1-6`); a typo stops the start, not a trainee."""
        start, _, end = hours.partition("-")
        chosen: set[int] = set()
        for part in days.split(","):
            first, _, last = part.strip().partition("-")
            chosen.update(range(int(first), int(last or first) + 1))
        if not chosen or not chosen <= set(range(1, 8)):
            raise ValueError(f"working days are ISO weekdays 1-7: {days!r}")
        opening, closing = time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
        if opening >= closing:
            raise ValueError(f"working hours end after they start: {hours!r}")
        return cls(opening, closing, frozenset(chosen))

    def open_at(self, now: datetime) -> bool:
        local = now.astimezone(CHINA)
        return local.isoweekday() in self.days and self.start <= local.time() < self.end

    def next_opening(self, now: datetime) -> datetime:
        local = now.astimezone(CHINA)
        for ahead in range(8):
            day = local.date() + timedelta(days=ahead)
            opening = datetime.combine(day, self.start, CHINA)
            if day.isoweekday() in self.days and opening > local:
                return opening
        raise AssertionError("a week always has a working day")

    def back_at(self, now: datetime) -> str:
        """When staff are back, the way a person says it: 今天 08:30, 明天 08:30, 3月9日（周一）08:30."""
        opening = self.next_opening(now)
        days = (opening.date() - now.astimezone(CHINA).date()).days
        clock = opening.strftime("%H:%M")
        if days == 0:
            return f"今天 {clock}"
        if days == 1:
            return f"明天 {clock}"
        return f"{opening.month}月{opening.day}日（周{WEEKDAYS[opening.weekday()]}）{clock}"

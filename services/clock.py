"""The time source of the backend; tests inject a clock they can move."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from storage.types import utcnow

Clock = Callable[[], datetime]

system_clock: Clock = utcnow

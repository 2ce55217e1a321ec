"""The one elected process that ticks (APScheduler 3): asks the backend what is due, claims it,
and delivers it through the outbound registry to every bound chat, or by SMS when there is none."""

"""structlog set-up: readable lines in a terminal, JSON lines in prod; nothing secret in any line.

Chat ids (a chat's only secret), signed links, tickets, bearer tokens, ID numbers and phones are
masked in every line, whoever writes it: structlog's rendered output, and every record of the
standard library's loggers (httpx, uvicorn's access and error logs, SQLAlchemy, ...), masked when
the record is made, so no handler or formatter configured elsewhere can print the original.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

import structlog

HIDDEN = "***"

_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # path segments that are keys by themselves: download tokens, verification codes, chat ids
    (re.compile(r"(/(?:downloads|verify|bindings)/)[^\s/?#\"'<>]+"), rf"\g<1>{HIDDEN}"),
    # every query value: player tickets and whatever else a link carries
    (re.compile(r"([?&][\w.\-]+=)[^\s&#\"'<>]+"), rf"\g<1>{HIDDEN}"),
    # conversation keys "<channel>:<chat id>", also percent-encoded in a URL
    (re.compile(r"\b((?:rest|telegram|wechat|web|terminal)(?::|%3A))[^\s\"'<>,)]+", re.I), rf"\g<1>{HIDDEN}"),
    (re.compile(r"\b(bearer\s+)[^\s\"'<>,]+", re.I), rf"\g<1>{HIDDEN}"),
    (re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])"), HIDDEN),  # ID numbers
    (re.compile(r"(?<![\dA-Za-z])1[3-9]\d{9}(?![\dA-Za-z])"), HIDDEN),  # mainland mobile numbers
)


def scrub(text: str) -> str:
    """`text` with every secret or personal value the rules know replaced by ***."""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def _scrub_arg(value: Any) -> Any:
    # Numbers stay numbers for %d; anything else is printed as text anyway (an httpx.URL, say).
    if value is None or isinstance(value, int | float):
        return value
    return scrub(str(value))


def _scrub_record(record: logging.LogRecord) -> logging.LogRecord:
    record.msg = scrub(str(record.msg))
    if isinstance(record.args, Mapping):
        record.args = {key: _scrub_arg(value) for key, value in record.args.items()}
    elif record.args:
        # the tuple keeps its shape: uvicorn's access formatter unpacks it by position
        record.args = tuple(_scrub_arg(value) for value in record.args)
    if record.exc_info and not record.exc_text:
        record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)
    return record


def _install_record_scrubber() -> None:
    factory = logging.getLogRecordFactory()
    if getattr(factory, "scrubs", False):
        return

    def scrubbing_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return _scrub_record(factory(*args, **kwargs))

    scrubbing_factory.scrubs = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(scrubbing_factory)


def _scrub_rendered(_logger: Any, _name: str, line: Any) -> Any:
    """The last processor: the renderer's finished line, exception text included."""
    return scrub(line) if isinstance(line, str) else line


def configure_logging(env: str, level: int = logging.INFO) -> None:
    renderer: Callable[..., Any] = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if env == "prod"
        else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
            _scrub_rendered,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        # not cached: loggers pick up a later call (a command lowering the level, a test capturing)
        cache_logger_on_first_use=False,
    )
    _install_record_scrubber()
    logging.basicConfig(level=level, format="%(message)s")
    # one line per internal call of the assistant to the backend is noise at INFO
    logging.getLogger("httpx").setLevel(max(level, logging.WARNING))

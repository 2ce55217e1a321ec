"""Error logs show where it failed, never the values of local variables (ID numbers, phones, photos);
no line of any logger shows a chat id, a token, a signed link, a phone or an ID number."""

from __future__ import annotations

import copy
import io
import logging
import logging.config
from collections.abc import Iterator

import httpx
import pytest
import structlog
import uvicorn.config

from services.logging import configure_logging


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_tracebacks_leave_out_local_values(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    structlog.reset_defaults()
    configure_logging(env)
    log = structlog.get_logger("test")

    def fail(id_number: str) -> None:
        raise RuntimeError("boom")

    id_number = "".join(["220102", "19780512", "0319"])
    try:
        fail(id_number)
    except RuntimeError:
        log.exception("action_failed")
    output = capsys.readouterr()
    printed = output.out + output.err
    assert "action_failed" in printed and "RuntimeError" in printed
    assert id_number not in printed


CHAT = "rest:web-Zq8secretchat41"
TOKEN = "eyJrIjoiZWNlcnQiLCJpIjoxLCJlIjo0MTAyNDQ0ODAwfQ.Sig-Part_9x"
PHONE = "13912345678"
ID_NUMBER = "".join(["220102", "19780512", "0319"])


@pytest.fixture
def uvicorn_output() -> Iterator[io.StringIO]:
    """What uvicorn's own handlers and formatters print, installed as `uvicorn.run` does, after ours."""
    structlog.reset_defaults()
    configure_logging("prod")
    printed = io.StringIO()
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    for handler in config["handlers"].values():
        handler["stream"] = printed
    logging.config.dictConfig(config)
    yield printed
    for name in ("uvicorn", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
    structlog.reset_defaults()


def test_no_logger_prints_a_chat_id_token_link_phone_or_id_number(
    uvicorn_output: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    link = f"http://jianpei.test/downloads/{TOKEN}"
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", f"/learning/player?ticket={TOKEN}", "1.1", 200
    )
    logging.getLogger("uvicorn.error").warning(
        'HTTP Request: %s %s "%s %d %s"',
        "GET",
        httpx.URL(f"http://jianpei.test/api/assistant/bindings/{CHAT}"),
        "HTTP/1.1",
        404,
        "Not Found",
    )
    try:
        raise ValueError(f"no document for {link}, chat {CHAT}, phone {PHONE}, id {ID_NUMBER}")
    except ValueError:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
        structlog.get_logger("test").exception("failed", link=link, chat=CHAT)
    structlog.get_logger("test").info("sent", authorization=f"Bearer {TOKEN}", url=link.replace(":", "%3A"))
    output = capsys.readouterr()
    printed = output.out + output.err + uvicorn_output.getvalue()
    assert "/learning/player?ticket=***" in printed and "/bindings/***" in printed
    assert (
        printed.count("ValueError: no document for") == 2 and '" 200' in printed
    )  # the lines are still there
    for secret in (TOKEN, "Sig-Part_9x", "web-Zq8secretchat41", PHONE, ID_NUMBER):
        assert secret not in printed, printed

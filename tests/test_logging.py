"""Error logs show where it failed, never the values of local variables (ID numbers, phones, photos)."""

from __future__ import annotations

import pytest
import structlog

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

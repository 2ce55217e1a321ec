"""Understanding what trainees type: Rasa-format training data, the embedded engine built from
config.yml, the adapter for an external Rasa server, and evaluation.

    interpreter = nlu.load_interpreter(models_dir)  # loads nlu-<version>.npz there, trains if absent
    answer = await interpreter.parse("密码忘了咋整")  # Rasa /model/parse shape
    nlu.loaded_model_version()                      # for /health
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any, Protocol

import httpx

from nlu.engine import FALLBACK_INTENT, EmbeddedInterpreter, artifact_path, model_version, train
from nlu.rasa_server import RasaServerInterpreter

__all__ = [
    "FALLBACK_INTENT",
    "EmbeddedInterpreter",
    "Interpreter",
    "RasaServerInterpreter",
    "load_interpreter",
    "loaded_model_version",
    "model_version",
    "open_model",
]

log = logging.getLogger(__name__)


class Interpreter(Protocol):
    version: str

    async def parse(self, text: str) -> dict[str, Any]: ...


_lock = threading.Lock()
_loaded: dict[str, Interpreter] = {}
_last_version: str | None = None


def load_interpreter(models_dir: Path, rasa_url: str | None = None) -> Interpreter:
    """The process-wide interpreter: a Rasa server's /model/parse when `rasa_url` is given, else the
    embedded model of the current data from `models_dir`, trained and written there only when absent."""
    global _last_version
    key = f"rasa:{rasa_url}" if rasa_url else f"embedded:{models_dir.resolve()}"
    with _lock:
        if key not in _loaded:
            _loaded[key] = _connect(rasa_url) if rasa_url else open_model(models_dir)
        interpreter = _loaded[key]
        _last_version = interpreter.version
        return interpreter


def _connect(url: str) -> RasaServerInterpreter:
    interpreter = RasaServerInterpreter(url)
    try:
        status = httpx.get(f"{interpreter.url}/status", timeout=3).json()
        interpreter.version = str(status.get("model_id") or status.get("model_file") or "unknown")
    except (httpx.HTTPError, ValueError, AttributeError):
        log.warning("Rasa server %s did not say which model it runs", url)
    return interpreter


def open_model(models_dir: Path) -> EmbeddedInterpreter:
    """The embedded model of the current data and config.yml from `models_dir`; trained and written
    there when no artifact of that version exists, never retrained when one does."""
    path = artifact_path(models_dir, model_version())
    if path.exists():
        return EmbeddedInterpreter.load(path)
    log.info("no NLU model %s yet; training it once", path.name)
    return train(models_dir).interpreter


def loaded_model_version() -> str | None:
    """The version of the model this process loaded last (None before any load)."""
    return _last_version

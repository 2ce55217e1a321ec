"""One embedded NLU model for the whole run, trained the way the assistant gets it on a fresh machine."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

import nlu
from nlu.engine import EmbeddedInterpreter
from services.settings import Settings


@dataclass(frozen=True)
class Trained:
    data_dir: Path
    interpreter: EmbeddedInterpreter


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    data_dir = tmp_path_factory.mktemp("nlu-data")
    settings = Settings(env="test", data_dir=data_dir, _env_file=None)  # type: ignore[call-arg]
    interpreter = nlu.load_interpreter(settings)
    assert isinstance(interpreter, EmbeddedInterpreter)
    return Trained(data_dir, interpreter)

"""One embedded NLU model for the whole run, trained the way the assistant gets it on a fresh machine."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

import nlu
from nlu.engine import EmbeddedInterpreter


@dataclass(frozen=True)
class Trained:
    data_dir: Path
    interpreter: EmbeddedInterpreter


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    data_dir = tmp_path_factory.mktemp("nlu-data")
    interpreter = nlu.load_interpreter(data_dir / "models")
    assert isinstance(interpreter, EmbeddedInterpreter)
    return Trained(data_dir, interpreter)

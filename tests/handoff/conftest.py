"""The hand-off tests use the assistant's real NLU, trained once per run."""

from tests.assistant.conftest import interpreter, nlu_data_dir

__all__ = ["interpreter", "nlu_data_dir"]

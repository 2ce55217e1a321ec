"""The assistant fixtures of tests/assistant, for the typed journeys."""

from tests.assistant.conftest import chat_http, interpreter, nlu_data_dir

__all__ = ["chat_http", "interpreter", "nlu_data_dir"]

"""A photo as a message both engines understand: the trigger payload `/send_photo` with the picture in
`metadata.attachment`. A Rasa server cannot read an empty text (its LogisticRegressionClassifier has no
feature to work on) and would read a caption as a question, so a photo reaches it as this payload, which
Rasa maps to the `send_photo` intent without its NLU; the embedded runtime takes the payload, or any
text, with an attachment as `send_photo` too."""

from __future__ import annotations

from dataclasses import replace

from bot.runtime.assistant import PHOTO_INTENT, UserMessage

PHOTO_PAYLOAD = f"/{PHOTO_INTENT}"


def has_photo(message: UserMessage) -> bool:
    return isinstance(message.metadata.get("attachment"), dict)


def as_photo_payload(message: UserMessage) -> UserMessage:
    """A message with a photo as the trigger payload (a caption is no question); others unchanged."""
    return replace(message, text=PHOTO_PAYLOAD) if has_photo(message) else message

"""The photo: requirements, the upload in chat, confirmation with the can't-change warning, submit."""

from __future__ import annotations

import base64
import binascii
import contextlib
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.client import BackendError
from actions.common import bound_or_explain, carry_on, client, say_error

NOTHING_TO_SUBMIT = "nothing_to_submit"
ENDS_THE_FORM = frozenset({"not_bound", "photo_locked"})


def _attachment(tracker: Tracker) -> dict[str, Any] | None:
    found = (tracker.latest_message.get("metadata") or {}).get("attachment")
    return found if isinstance(found, dict) else None


class ValidatePhotoForm(FormValidationAction):
    """Each photo sent is checked; its problems are told in plain words, and when the check can mend
    them (size, framing, background) the mended photo is offered instead. A chat bound to nobody, or
    a person whose photo is already on file, ends the form: no photo it takes could be submitted."""

    def name(self) -> str:
        return "validate_photo_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events = await super().run(dispatcher, tracker, domain)
        if any(e.get("name") == "photo_check" and e.get("value") == NOTHING_TO_SUBMIT for e in events):
            return [SlotSet("photo_check", None), SlotSet("requested_slot", None), ActiveLoop(None)]
        return events

    async def extract_photo_check(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        attachment = _attachment(tracker)
        if attachment is None:
            if tracker.get_slot("requested_slot") == "photo_check":  # not when the form starts: it asks
                dispatcher.utter_message(text="这一步请直接发一张照片。不想传了就说“取消”。")
            return {}
        try:
            content = base64.b64decode(str(attachment.get("content_base64") or ""), validate=True)
        except (binascii.Error, ValueError):
            content = b""
        if not content:
            dispatcher.utter_message(text="这个文件打不开，请重新拍一张发过来。")
            return {}
        filename = str(attachment.get("filename") or "photo.jpg")[:100]
        try:
            checked = await client().check_photo(tracker.sender_id, content, filename)
        except BackendError as error:
            if error.code == "not_bound":
                dispatcher.utter_message(response="utter_need_binding")
            else:
                say_error(dispatcher, error)
            # nothing this chat sends could be submitted: bind first, or the photo is on file for good
            return {"photo_check": NOTHING_TO_SUBMIT} if error.code in ENDS_THE_FORM else {}
        problems = "\n".join(f"· {p['message']}" for p in checked["problems"])
        if checked["pending_id"] is None:
            dispatcher.utter_message(text=f"这张照片不能用：\n{problems}\n请按要求重新拍一张发过来。")
            return {}
        if checked["changed"]:
            dispatcher.utter_message(
                text=f"原照片有这些问题：\n{problems}\n我帮您改好了一张（白底、295×413、30KB以内），请看看：",
                image=checked["preview_url"],
            )
        else:
            dispatcher.utter_message(text="照片检查合格。")
        return {"photo_check": {"pending_id": checked["pending_id"]}}


def _pending_id(tracker: Tracker) -> str:
    pending = tracker.get_slot("photo_check")
    return str(pending.get("pending_id") or "") if isinstance(pending, dict) else ""


def _nothing_pending(dispatcher: CollectingDispatcher) -> None:
    dispatcher.utter_message(
        text="还没有要提交的照片，请先发一张照片。",
        buttons=[{"title": "上传照片", "payload": "/upload_photo"}],
    )


class ActionSubmitPhoto(Action):
    """The final submit, after the warning: the management system keeps the photo for good. A request
    that needed the photo (the e-certificate) is then taken up again."""

    def name(self) -> str:
        return "action_submit_photo"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        pending_id = _pending_id(tracker)
        if not pending_id:
            _nothing_pending(dispatcher)
            return []
        if not await bound_or_explain(tracker, dispatcher):
            return []
        try:
            message = await client().submit_photo(tracker.sender_id, pending_id)
        except BackendError as error:
            if error.code == "photo_gone":
                _nothing_pending(dispatcher)
            else:
                say_error(dispatcher, error)
            return [SlotSet("photo_check", None)]
        dispatcher.utter_message(text=message)
        return [SlotSet("photo_check", None), *carry_on(tracker)]


class ActionDiscardPhoto(Action):
    """A no (or 取消) to the warning: the checked photo is forgotten, so no later tap submits it."""

    def name(self) -> str:
        return "action_discard_photo"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        pending_id = _pending_id(tracker)
        if pending_id:
            # gone already is fine too: the backend sweeps what is left within the hour
            with contextlib.suppress(BackendError):
                await client().discard_photo(tracker.sender_id, pending_id)
        dispatcher.utter_message(response="utter_photo_not_submitted")
        return [SlotSet("photo_check", None)]

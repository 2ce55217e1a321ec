"""学时证明 and 电子证书 as downloadable PDFs: signed links, fetched with a plain GET.

专业人员 renew (证书更新), 技能人员 view and download (查看/下载), as the guide says."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.client import BackendError
from actions.common import Asked, Resumable, bound_or_explain, client, come_back_to, say_error
from actions.learning import explain_platform_error, payload
from rules.help import HELPLINE

PROFESSIONAL = "专业人员"
NO_PHOTO = "no_photo"


class ActionTrainingProof(Resumable):
    def name(self) -> str:
        return "action_training_proof"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, asked: Asked) -> list[EventType]:
        number = asked.get("certificate_number")
        year = asked.get("year")
        then = come_back_to(self.name(), certificate_number=number, year=year)
        if not await bound_or_explain(tracker, dispatcher):
            return [then]
        backend = client()
        try:
            if number is not None and not any(
                c.certificate_number == str(number) for c in await backend.certificates(tracker.sender_id)
            ):
                dispatcher.utter_message(text="您名下没有这个证书编号。")
                return []
            if number is None or year is None:
                orders = [o for o in await backend.enrolments(tracker.sender_id) if o["assessment"]["passed"]]
                if number is not None:
                    orders = [o for o in orders if o["certificate_number"] == str(number)]
                if not orders:
                    dispatcher.utter_message(
                        text="学时审核和考核都通过后才有学时证明。先学完课程、参加考核吧。"
                    )
                    return []
                if len(orders) > 1:
                    dispatcher.utter_message(
                        text="要哪一份学时证明？",
                        buttons=[
                            {
                                "title": f"{o['position']} {o['cycle_year']}年度",
                                "payload": payload(
                                    "training_proof",
                                    certificate_number=o["certificate_number"],
                                    year=o["cycle_year"],
                                ),
                            }
                            for o in orders
                        ],
                    )
                    return []
                number, year = orders[0]["certificate_number"], orders[0]["cycle_year"]
            proof = await backend.training_proof(tracker.sender_id, str(number), int(str(year)))
        except (ValueError, TypeError):
            dispatcher.utter_message(text="年度不对，请点按钮选择。")
            return []
        except BackendError as error:
            return await explain_platform_error(dispatcher, tracker, error, then)
        dispatcher.utter_message(text=f"{proof['message']}\n{proof['download_url']}")
        return []


class ActionECertificate(Resumable):
    def name(self) -> str:
        return "action_e_certificate"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, asked: Asked) -> list[EventType]:
        number = asked.get("certificate_number")
        if not await bound_or_explain(tracker, dispatcher):
            return [come_back_to(self.name(), certificate_number=number)]
        backend = client()
        try:
            certificates = await backend.certificates(tracker.sender_id)
            if number is not None:
                certificates = [c for c in certificates if c.certificate_number == str(number)]
                if not certificates:
                    dispatcher.utter_message(text="您名下没有这个证书编号。")
                    return []
            if not certificates:
                dispatcher.utter_message(text=f"您名下还没有证书记录。如有疑问请拨打 {HELPLINE}。")
                return []
            if len(certificates) > 1:
                dispatcher.utter_message(
                    text="要哪个证书的电子证书？",
                    buttons=[
                        {
                            "title": f"{c.position} {c.certificate_number}",
                            "payload": payload("renew_certificate", certificate_number=c.certificate_number),
                        }
                        for c in certificates
                    ],
                )
                return []
            chosen = certificates[0]
            renew = chosen.category == PROFESSIONAL
            number = chosen.certificate_number
            document = await backend.e_certificate(tracker.sender_id, number, renew=renew)
        except BackendError as error:
            say_error(dispatcher, error)
            if error.code == NO_PHOTO:  # the photo first, then back to this certificate
                dispatcher.utter_message(text="传好照片，我接着给您换这个电子证书。")
                return [come_back_to(self.name(), certificate_number=number), FollowupAction("photo_form")]
            return []
        how = "专业人员在管理系统用“证书更新”换发" if renew else "技能人员在管理系统“查看/下载”"
        dispatcher.utter_message(text=f"{document['message']}（{how}）\n{document['download_url']}")
        return []

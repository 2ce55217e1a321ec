"""继续教育 in chat: enrolment (certificate -> cycle -> package -> confirm -> order), the player link,
progress in hours, and the assessment question by question. Every choice is a button whose payload
carries what was chosen so far; the backend checks each value belongs to this trainee."""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.accounts import set_aside_details, start_learning_signup
from actions.client import BackendError
from actions.common import Asked, Resumable, bound_or_explain, client, come_back_to, say_error
from rules.help import HELPLINE

NO_SKIP = "课程自动播放，不能快进也不能后退；中途退出进度会保存；全部学完后可以重播。"


def payload(intent: str, **values: Any) -> str:
    return f"/{intent}{json.dumps({k: str(v) for k, v in values.items()}, ensure_ascii=False)}"


async def learning_signup_needed(
    dispatcher: CollectingDispatcher, tracker: Tracker, then: SlotSet
) -> list[EventType]:
    """A bound trainee without a platform account registers it here, with the platform's SMS code;
    `then` is the request he made, taken up again once the account exists."""
    profile = await client().profile(tracker.sender_id)
    dispatcher.utter_message(text="您还没有注册继续教育平台，我帮您注册，需要一个短信验证码。")
    events = set_aside_details(
        tracker, str(profile["name"]), str(profile["id_number"]), str(profile["phone"])
    )
    return [then, *events, *await start_learning_signup(dispatcher, tracker, str(profile["phone"]))]


async def explain_platform_error(
    dispatcher: CollectingDispatcher, tracker: Tracker, error: BackendError, then: SlotSet
) -> list[EventType]:
    """A trainee without a platform account is taken to register it, then back to `then`; any other
    error is said as is."""
    if error.code == "no_account":
        return await learning_signup_needed(dispatcher, tracker, then)
    say_error(dispatcher, error)
    return []


def _hours(package: dict[str, Any], *, general_exempt: bool) -> str:
    """The hours this trainee would study: an exempt order has no general courses."""
    if general_exempt:
        return f"专业{package['professional_hours']:g}学时，通用课免学"
    return f"专业{package['professional_hours']:g}+通用{package['general_hours']:g}学时"


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


class ActionEnrol(Resumable):
    def name(self) -> str:
        return "action_enrol"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, asked: Asked) -> list[EventType]:
        number = asked.get("certificate_number")
        position = asked.get("position")
        year = _int(asked.get("year"))
        package = asked.get("package_code")
        confirmed = asked.get("answer") == "confirm"
        then = come_back_to(self.name(), certificate_number=number, position=position, year=year)
        if not await bound_or_explain(tracker, dispatcher):
            return [then]
        backend = client()
        try:
            owned = await backend.learning_certificates(tracker.sender_id)
            if number is None and position is not None:  # 我要报机械员2026年的
                number = _only_position(owned, str(position))
            if number is None:
                return self._certificates(dispatcher, owned)
            # Payloads can be forged: the platform account and the certificate are checked before
            # anything is offered, and only the offered cycles are accepted.
            if not any(c["certificate_number"] == str(number) for c in owned):
                dispatcher.utter_message(text="您名下没有这个证书编号。")
                return []
            cycles = await backend.cycles()
            if year is None or year not in cycles["cycles"]:
                if year is not None:
                    dispatcher.utter_message(text="没有这个培训周期，请点下面的按钮选。")
                dispatcher.utter_message(
                    text=f"选培训周期（一个自然年）。{cycles['message']}",
                    buttons=[
                        {
                            "title": f"{y}年度",
                            "payload": payload("enroll_course", certificate_number=number, year=y),
                        }
                        for y in cycles["cycles"]
                    ],
                )
                return []
            # The backend's rule: from the second order of a year on, the general courses are exempt.
            general_exempt = any(e["cycle_year"] == year for c in owned for e in c.get("enrolments") or [])
            packages = await backend.packages(tracker.sender_id, str(number))
            if package is None or not any(p["code"] == package for p in packages):
                if not packages:
                    dispatcher.utter_message(text=f"这个岗位暂时没有推荐课程包，请拨打 {HELPLINE} 咨询。")
                    return []
                dispatcher.utter_message(
                    text="选一个推荐课程包：",
                    buttons=[
                        {
                            "title": f"{p['title']}（{_hours(p, general_exempt=general_exempt)}）",
                            "payload": payload(
                                "enroll_course", certificate_number=number, year=year, package_code=p["code"]
                            ),
                        }
                        for p in packages
                    ],
                )
                return []
            if not confirmed:
                chosen = next(p for p in packages if p["code"] == package)
                dispatcher.utter_message(
                    text=f"确认报名：证书 {number}，{year}年度，课程包“{chosen['title']}”。提交后生成订单。",
                    buttons=[
                        {
                            "title": "确认报名",
                            "payload": payload(
                                "enroll_course",
                                certificate_number=number,
                                year=year,
                                package_code=package,
                                answer="confirm",
                            ),
                        },
                        {"title": "取消", "payload": "/cancel"},
                    ],
                )
                return []
            order = await backend.enrol(tracker.sender_id, str(number), year, str(package))
        except BackendError as error:
            return await explain_platform_error(dispatcher, tracker, error, then)
        lines = [f"报名成功，课程订单号 {order['order_number']}，共 {order['total_hours']:g} 学时。"]
        if order["general_exempt"]:
            lines.append("同一年您从第二个岗位起通用课免学，这个订单只有专业课。")
        if order.get("blocked_by"):
            lines.append(f"学习顺序：先报名的岗位先学，{order['blocked_by']}。")
        dispatcher.utter_message(
            text="\n".join(lines),
            buttons=[
                {"title": "开始学习", "payload": "/start_learning"},
                {"title": "学习进度", "payload": "/learning_progress"},
            ],
        )
        return []

    @staticmethod
    def _certificates(
        dispatcher: CollectingDispatcher, certificates: list[dict[str, Any]]
    ) -> list[EventType]:
        if not certificates:
            dispatcher.utter_message(
                text=f"您的账号下还没有证书。证书由省建设主管部门上传，如有疑问请拨打 {HELPLINE}。"
            )
            return []
        text = "选要报名继续教育的证书："
        if len(certificates) > 1:
            text += "\n有几个证书可以都报，先报名的先学；同一年从第二个岗位起通用课免学。"
        dispatcher.utter_message(
            text=text,
            buttons=[
                {
                    "title": f"{c['position']} {c['certificate_number']}（{c['status']}）",
                    "payload": payload("enroll_course", certificate_number=c["certificate_number"]),
                }
                for c in certificates
            ],
        )
        return []


def _only_position(owned: list[dict[str, Any]], position: str) -> str | None:
    """The number of the one certificate of this position, if he has exactly one."""
    numbers = [c["certificate_number"] for c in owned if c["position"] == position]
    return str(numbers[0]) if len(numbers) == 1 else None


def hours_done(order: dict[str, Any]) -> float:
    done = 0.0
    for course in order["courses"]:
        share = (
            min(1.0, course["credited_seconds"] / course["duration_seconds"])
            if course["duration_seconds"]
            else 1.0
        )
        done += course["hours"] * (1.0 if course["completed"] else share)
    return round(done, 1)


class ActionLearningStart(Resumable):
    def name(self) -> str:
        return "action_learning_start"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, asked: Asked) -> list[EventType]:
        then = come_back_to(self.name(), enrolment_id=asked.get("enrolment_id"))
        if not await bound_or_explain(tracker, dispatcher):
            return [then]
        try:
            orders = await client().enrolments(tracker.sender_id)
            wanted = _int(asked.get("enrolment_id"))
            open_orders = [o for o in orders if not o["courses_completed"] and not o.get("blocked_by")]
            chosen = next((o for o in orders if o["id"] == wanted), None) if wanted else None
            chosen = chosen or (open_orders[0] if open_orders else (orders[0] if orders else None))
            if chosen is None:
                dispatcher.utter_message(
                    text="您还没有报名，先报名才能学习。",
                    buttons=[{"title": "报名学习", "payload": "/enroll_course"}],
                )
                return []
            if wanted is None and chosen["courses_completed"] and not chosen["assessment"]["passed"]:
                dispatcher.utter_message(
                    text=f"{chosen['position']} {chosen['cycle_year']}年度的课程都学完了，下一步是考核，"
                    "通过了才有学时证明。现在开始考核吗？",
                    buttons=[
                        {
                            "title": "参加考核",
                            "payload": payload("start_assessment", enrolment_id=chosen["id"]),
                        }
                    ],
                )
                return []
            url = await client().player_link(tracker.sender_id, chosen["id"])
        except BackendError as error:
            return await explain_platform_error(dispatcher, tracker, error, then)
        dispatcher.utter_message(
            text=f"{chosen['position']} {chosen['cycle_year']}年度的课程，点链接开始学习：\n{url}\n{NO_SKIP}",
        )
        return []


class ActionLearningProgress(Resumable):
    def name(self) -> str:
        return "action_learning_progress"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, asked: Asked) -> list[EventType]:
        then = come_back_to(self.name(), enrolment_id=asked.get("enrolment_id"))
        if not await bound_or_explain(tracker, dispatcher):
            return [then]
        try:
            orders = await client().enrolments(tracker.sender_id)
        except BackendError as error:
            return await explain_platform_error(dispatcher, tracker, error, then)
        if not orders:
            dispatcher.utter_message(
                text="您还没有报名。", buttons=[{"title": "报名学习", "payload": "/enroll_course"}]
            )
            return []
        lines = []
        for order in orders:
            done = hours_done(order)
            left = max(0.0, round(order["total_hours"] - done, 1))
            lines.append(
                f"{order['position']} {order['cycle_year']}年度：已学 {done:g} 学时，还差 {left:g} 学时"
                f"（{order['progress_percent']}%），{order['status']}"
            )
        dispatcher.utter_message(text="\n".join(lines) + "\n" + NO_SKIP)
        return []


class ActionAssessment(Resumable):
    """Picks the order to be assessed and starts the paper; the form then asks question by question."""

    def name(self) -> str:
        return "action_assessment"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, asked: Asked) -> list[EventType]:
        then = come_back_to(self.name(), enrolment_id=asked.get("enrolment_id"))
        if not await bound_or_explain(tracker, dispatcher):
            return [then]
        backend = client()
        try:
            orders = await backend.enrolments(tracker.sender_id)
            wanted = _int(asked.get("enrolment_id"))
            ready = [o for o in orders if o["courses_completed"] and not o["assessment"]["passed"]]
            if wanted is not None:
                ready = [o for o in orders if o["id"] == wanted]
            if not ready:
                if orders and all(o["assessment"]["passed"] for o in orders):
                    dispatcher.utter_message(
                        text="您的考核都已通过。",
                        buttons=[{"title": "学时证明", "payload": "/training_proof"}],
                    )
                else:
                    dispatcher.utter_message(text="课程全部学完后才能参加考核。")
                return []
            if len(ready) > 1:
                dispatcher.utter_message(
                    text="选要考核的课程订单：",
                    buttons=[
                        {
                            "title": f"{o['position']} {o['cycle_year']}年度",
                            "payload": payload("start_assessment", enrolment_id=o["id"]),
                        }
                        for o in ready
                    ],
                )
                return []
            paper = await backend.start_paper(tracker.sender_id, ready[0]["id"])
        except BackendError as error:
            return await explain_platform_error(dispatcher, tracker, error, then)
        chosen = ready[0]
        dispatcher.utter_message(
            text=f"{chosen['position']}证书（{chosen['certificate_number']}）{chosen['cycle_year']}年度的考核开始，"
            f"{paper['message']}。点选项作答，说“取消”可以先退出，下次接着答。"
        )
        return [
            SlotSet("exam_enrolment", ready[0]["id"]),
            SlotSet("answer", None),
            FollowupAction("assessment_form"),
        ]


def question_message(paper: dict[str, Any]) -> dict[str, Any]:
    question = next(q for q in paper["questions"] if q["index"] == paper["next_index"])
    letters = "ABCDEFGH"
    options = "\n".join(f"{letters[i]}. {option}" for i, option in enumerate(question["options"]))
    kind = "多选题，直接输入所有正确选项的字母，如 AC" if question["multiple"] else "单选题"
    text = f"第{question['index']}题（共{paper['total']}题，{kind}）：{question['stem']}\n{options}"
    buttons = (
        []
        if question["multiple"]
        else [
            {"title": letters[i], "payload": payload("inform", answer=letters[i], question=question["index"])}
            for i in range(len(question["options"]))
        ]
    )
    return {"text": text, "buttons": buttons}


class ActionAskAnswer(Action):
    def name(self) -> str:
        return "action_ask_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        enrolment = _int(tracker.get_slot("exam_enrolment"))
        if enrolment is None:
            return []
        try:
            paper = await client().start_paper(tracker.sender_id, enrolment)
        except BackendError as error:
            say_error(dispatcher, error)
            return []
        if paper["next_index"] is not None:
            dispatcher.utter_message(**question_message(paper))
        return []


class ActionAssessmentDone(Action):
    def name(self) -> str:
        return "action_assessment_done"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return [SlotSet("answer", None), SlotSet("exam_enrolment", None)]

"""HTTP API of the continuing-education platform (继续教育平台), under /api/learning.

A trainee sees and changes only their own account, certificates, orders, sessions and papers.
"""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.auth import PASSWORD_ADVICE, change_account_password, close_session
from services.context import Backend, BackendDep
from services.learning import accounts, assessment, enrolment, links, watching
from services.learning.rules import Report, offered_cycles
from services.learning.schemas import (
    AnswerIn,
    CertificateNumber,
    CertificateOut,
    CodeRequest,
    CodeSent,
    CourseSeq,
    Cycles,
    EnrolledCycle,
    EnrolmentId,
    EnrolmentOut,
    EnrolRequest,
    HeartbeatIn,
    HeartbeatOut,
    LoggedIn,
    LoginRequest,
    PackageCourseOut,
    PackageOut,
    PaperOut,
    PasswordChange,
    PlayerLink,
    PlayerLinkIn,
    QuestionIndex,
    QuestionOut,
    Registered,
    RegisterRequest,
    Ticket,
    TicketIn,
    WatchOut,
)
from services.learning.views import enrolment_out, enrolments_of
from services.security import authenticated_person, bearer
from storage.models import Enrolment, LearningAccount
from storage.models.learning import CourseKind

CHINA_TIME = timezone(timedelta(hours=8), "Asia/Shanghai")  # the trainee's clock

router = APIRouter(prefix="/api/learning", tags=["继续教育平台 learning"])


async def current_person_id(
    backend: BackendDep,
    authorization: Annotated[str | None, Header()] = None,
    x_jianpei_chat: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> int:
    person_id = await authenticated_person(backend, accounts.SYSTEM, authorization, x_jianpei_chat)
    if x_jianpei_chat is not None:  # the assistant never logs in: each call is its login
        await _pull_for_chat(backend, person_id)
    return person_id


async def _pull_for_chat(backend: Backend, person_id: int) -> None:
    """On the platform a login first pulls the certificates the authority uploaded since."""
    try:
        async with backend.transaction() as session:
            account = await session.scalar(
                select(LearningAccount).where(LearningAccount.person_id == person_id)
            )
            if account is not None:
                await accounts.pull_certificates(session, account, now=backend.now())
    except IntegrityError:  # another chat of the same person pulled them at the same moment
        pass


PersonId = Annotated[int, Depends(current_person_id)]


@router.post("/sms-codes", status_code=202, response_model=CodeSent)
async def send_code(body: CodeRequest, backend: BackendDep) -> CodeSent:
    """Text a registration code to the phone (one phone, one platform account)."""
    resend_after = await accounts.send_registration_code(backend, phone=body.phone)
    return CodeSent(message="验证码已发送，请查看手机短信", resend_after=resend_after)


@router.post("/accounts", status_code=201, response_model=Registered)
async def register(body: RegisterRequest, backend: BackendDep) -> Registered:
    """Register with real name, ID number, phone and the SMS code."""
    await accounts.register(
        backend, name=body.name, id_number=body.id_number, phone=body.phone, code=body.code
    )
    return Registered(
        login=body.id_number.strip().upper(), must_change_password=True, message=PASSWORD_ADVICE
    )


@router.post("/login", response_model=LoggedIn)
async def login(body: LoginRequest, backend: BackendDep) -> LoggedIn:
    """Log in with the ID number and password; the person's certificates are pulled from the registry."""
    token, account, pulled = await accounts.login(backend, login_name=body.login, password=body.password)
    message = "登录成功。您还在用初始密码，请尽快修改。" if account.must_change_password else "登录成功"
    return LoggedIn(
        token=token,
        must_change_password=account.must_change_password,
        certificates_pulled=pulled,
        message=message,
    )


@router.delete("/login", status_code=204)
async def logout(
    backend: BackendDep, _person: PersonId, authorization: Annotated[str | None, Header()] = None
) -> Response:
    async with backend.transaction() as session:
        await close_session(session, bearer(authorization))
    return Response(status_code=204)


@router.put("/password", status_code=204)
async def change_password(
    body: PasswordChange,
    backend: BackendDep,
    person_id: PersonId,
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    """A new password; every other login of this system ends, the one that changed it stays."""
    await change_account_password(
        backend,
        LearningAccount,
        person_id=person_id,
        old_password=body.old_password,
        new_password=body.new_password,
        system=accounts.SYSTEM,
        keep_token=bearer(authorization),
    )
    return Response(status_code=204)


@router.get("/me/certificates", response_model=list[CertificateOut])
async def my_certificates(backend: BackendDep, person_id: PersonId) -> list[CertificateOut]:
    """The certificates pulled from the management system, with the cycles already enrolled."""
    async with backend.sessions() as session:
        account = await enrolment.account_of(session, person_id)
        certificates = await enrolment.my_certificates(session, account)
        rows = (
            await session.execute(
                select(Enrolment.certificate_id, Enrolment.cycle_year, Enrolment.id)
                .where(Enrolment.person_id == person_id)
                .order_by(Enrolment.cycle_year.desc())
            )
        ).all()
    return [
        CertificateOut(
            certificate_number=c.certificate_number,
            position=c.position,
            category=c.category,
            status=c.status,
            remark=c.remark,
            enrolments=[
                EnrolledCycle(cycle_year=r.cycle_year, enrolment_id=r.id)
                for r in rows
                if r.certificate_id == c.id
            ],
        )
        for c in certificates
    ]


@router.get("/cycles", response_model=Cycles)
async def cycles(backend: BackendDep) -> Cycles:
    """The training cycles open for enrolment: this year and last year."""
    settings = backend.settings
    offered = offered_cycles(backend.now().date())
    return Cycles(
        cycles=offered,
        required_hours=settings.learning_required_hours,
        professional_hours=settings.learning_professional_hours,
        general_hours=settings.learning_general_hours,
        message=f"请先学{offered[0]}年度；{offered[1]}年度只在主管部门要求补学时才报。不能提前学习以后年度的课程。",
    )


@router.get("/packages", response_model=list[PackageOut])
async def packages(
    certificate_number: Annotated[CertificateNumber, Query()], backend: BackendDep, person_id: PersonId
) -> list[PackageOut]:
    """The recommended course packages for one of the trainee's certificates."""
    async with backend.sessions() as session:
        account = await enrolment.account_of(session, person_id)
        certificate = await enrolment.my_certificate(session, account, certificate_number)
        offered = await enrolment.packages_for(session, certificate.position)
    result = []
    for package in offered:
        courses = [
            PackageCourseOut(
                code=i.course.code, title=i.course.title, kind=i.course.kind, hours=i.course.hours
            )
            for i in package.items
        ]
        result.append(
            PackageOut(
                code=package.code,
                title=package.title,
                courses=courses,
                professional_hours=sum(c.hours for c in courses if c.kind == CourseKind.PROFESSIONAL),
                general_hours=sum(c.hours for c in courses if c.kind == CourseKind.GENERAL),
            )
        )
    return result


@router.post("/enrolments", status_code=201, response_model=EnrolmentOut)
async def enrol(body: EnrolRequest, backend: BackendDep, person_id: PersonId) -> EnrolmentOut:
    """Enrol a certificate for a cycle with a package; creates the course order (课程订单)."""
    created = await enrolment.enrol(
        backend,
        person_id=person_id,
        certificate_number=body.certificate_number,
        cycle_year=body.cycle_year,
        package_code=body.package_code,
    )
    return await enrolment_out(backend, person_id, created.id)


@router.get("/enrolments", response_model=list[EnrolmentOut])
async def list_enrolments(backend: BackendDep, person_id: PersonId) -> list[EnrolmentOut]:
    """我的培训: the trainee's course orders, the one to study first on top."""
    return await enrolments_of(backend, person_id)


@router.get("/enrolments/{enrolment_id}", response_model=EnrolmentOut)
async def read_enrolment(enrolment_id: EnrolmentId, backend: BackendDep, person_id: PersonId) -> EnrolmentOut:
    return await enrolment_out(backend, person_id, enrolment_id)


@router.post("/enrolments/{enrolment_id}/courses/{seq}/watch", status_code=201, response_model=WatchOut)
async def start_watching(
    enrolment_id: EnrolmentId, seq: CourseSeq, backend: BackendDep, person_id: PersonId
) -> WatchOut:
    """开始学习: open a session for one course; it resumes at the last credited position."""
    started = await watching.start_session(backend, person_id=person_id, enrolment_id=enrolment_id, seq=seq)
    return WatchOut(
        session_id=started.session.public_id,
        title=started.course.title,
        seq=started.course.seq,
        media_url=f"/learning/media/{started.media}",
        duration_seconds=started.course.duration_seconds,
        resume_at=started.resume_at,
        heartbeat_seconds=backend.settings.learning_heartbeat_seconds,
        free_replay=started.session.free_replay,
    )


@router.post("/watch/{session_id}/heartbeats", response_model=HeartbeatOut)
async def heartbeat(
    session_id: str,
    body: HeartbeatIn,
    backend: BackendDep,
    authorization: Annotated[str | None, Header()] = None,
) -> HeartbeatOut:
    """The player's report of its position; refused reports say why and credit nothing.

    The login is checked inside the heartbeat's own query (the busiest endpoint of the platform).
    """
    beat = await watching.heartbeat(
        backend,
        token=bearer(authorization),
        public_id=session_id[:64],
        report=Report(seq=body.seq, position=body.position, rate=body.rate),
    )
    return HeartbeatOut(
        credited_seconds=beat.credited_seconds,
        duration_seconds=beat.duration_seconds,
        course_completed=beat.course_completed,
        all_courses_completed=beat.all_courses_completed,
        free_replay=beat.free_replay,
    )


def _paper_out(paper: assessment.Paper) -> PaperOut:
    attempt = paper.attempt
    questions = [
        QuestionOut(index=q.index, stem=q.stem, options=q.options, multiple=q.multiple, answer=q.answer)
        for q in paper.questions
    ]
    unanswered = [q.index for q in questions if q.answer is None]
    submitted = attempt.submitted_at is not None
    if not submitted:
        message = f"共{len(questions)}题，已答{len(questions) - len(unanswered)}题"
    elif attempt.passed:
        message = f"考核通过，得分{attempt.score}分"
    else:  # when he may try again, in the trainee's own clock (Beijing time)
        assert attempt.submitted_at is not None
        retry_at = attempt.submitted_at + timedelta(minutes=paper.retry_minutes)
        message = (
            f"考核没有通过，得分{attempt.score}分（{paper.pass_mark}分及格）。"
            f"{paper.retry_minutes}分钟后可以再考（{retry_at.astimezone(CHINA_TIME):%H:%M}以后）"
        )
    return PaperOut(
        total=len(questions),
        answered=len(questions) - len(unanswered),
        questions=questions,
        next_index=None if submitted or not unanswered else unanswered[0],
        submitted=submitted,
        score=attempt.score,
        passed=attempt.passed,
        pass_mark=paper.pass_mark,
        message=message,
    )


@router.post("/enrolments/{enrolment_id}/assessment", status_code=201, response_model=PaperOut)
async def start_assessment(enrolment_id: EnrolmentId, backend: BackendDep, person_id: PersonId) -> PaperOut:
    """考核: draw a random paper (or get back the unfinished one)."""
    return _paper_out(await assessment.start_paper(backend, person_id=person_id, enrolment_id=enrolment_id))


@router.get("/enrolments/{enrolment_id}/assessment", response_model=PaperOut)
async def read_assessment(enrolment_id: EnrolmentId, backend: BackendDep, person_id: PersonId) -> PaperOut:
    """The latest paper; `next_index` is the first unanswered question."""
    return _paper_out(await assessment.current_paper(backend, person_id=person_id, enrolment_id=enrolment_id))


@router.put("/enrolments/{enrolment_id}/assessment/answers/{index}", response_model=PaperOut)
async def answer_question(
    enrolment_id: EnrolmentId, index: QuestionIndex, body: AnswerIn, backend: BackendDep, person_id: PersonId
) -> PaperOut:
    paper = await assessment.answer(
        backend, person_id=person_id, enrolment_id=enrolment_id, index=index, raw_answer=body.answer
    )
    return _paper_out(paper)


@router.post("/enrolments/{enrolment_id}/assessment/submit", response_model=PaperOut)
async def submit_assessment(enrolment_id: EnrolmentId, backend: BackendDep, person_id: PersonId) -> PaperOut:
    """交卷: scored at once; a pass completes the hours review when the courses are done."""
    return _paper_out(await assessment.submit(backend, person_id=person_id, enrolment_id=enrolment_id))


@router.post("/player-links", status_code=201, response_model=PlayerLink)
async def make_player_link(body: PlayerLinkIn, backend: BackendDep, person_id: PersonId) -> PlayerLink:
    """A signed, expiring link to the web player for one of the trainee's orders."""
    async with backend.sessions() as session:
        await enrolment.load_enrolment(session, person_id, body.enrolment_id)
    url, expires_at = links.player_link(
        backend.settings, person_id=person_id, enrolment_id=body.enrolment_id, now=backend.now()
    )
    return PlayerLink(url=url, expires_at=expires_at)


@router.post("/player-links/redeem", response_model=Ticket)
async def redeem_player_link(body: TicketIn, backend: BackendDep) -> Ticket:
    """The player page trades its link's ticket, once, for a login token of the platform."""
    token, enrolment_id = await links.redeem(backend, body.ticket)
    return Ticket(token=token, enrolment_id=enrolment_id)

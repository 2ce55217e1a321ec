"""Request and response bodies of the continuing-education API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field

# Ids and sequence numbers fit a 32-bit database integer; anything bigger would overflow the driver.
MAX_ID = 2**31 - 1
CERTIFICATE_NUMBER_LENGTH = 20


def _whole_number(label: str) -> Callable[[object], int]:
    """A check that turns bad input into a Chinese 422 before it can reach the database."""

    def check(raw: object) -> int:
        text = str(raw).strip() if isinstance(raw, str | int) and not isinstance(raw, bool) else ""
        if not (text.isascii() and text.isdigit() and len(text) <= 10 and 1 <= int(text) <= MAX_ID):
            raise ValueError(f"{label}不对，请检查后重试")
        return int(text)

    return check


def _certificate_number(raw: object) -> str:
    if not isinstance(raw, str) or len(raw.strip()) > CERTIFICATE_NUMBER_LENGTH:
        raise ValueError(f"证书编号不对，最多{CERTIFICATE_NUMBER_LENGTH}位，请核对后重试")
    return raw


EnrolmentId = Annotated[int, BeforeValidator(_whole_number("课程订单编号"))]
CourseSeq = Annotated[int, BeforeValidator(_whole_number("课程序号"))]
QuestionIndex = Annotated[int, BeforeValidator(_whole_number("题号"))]
CertificateNumber = Annotated[str, BeforeValidator(_certificate_number)]


class CodeRequest(BaseModel):
    phone: str = Field(max_length=30)


class CodeSent(BaseModel):
    message: str
    resend_after: datetime


class RegisterRequest(BaseModel):
    name: str = Field(max_length=50)
    id_number: str = Field(max_length=30)
    phone: str = Field(max_length=30)
    code: str = Field(max_length=10)


class Registered(BaseModel):
    login: str
    must_change_password: bool
    message: str


class LoginRequest(BaseModel):
    login: str = Field(max_length=30, description="身份证号")
    password: str = Field(max_length=100)


class LoggedIn(BaseModel):
    token: str
    must_change_password: bool
    certificates_pulled: int
    message: str


class PasswordChange(BaseModel):
    old_password: str = Field(max_length=100)
    new_password: str = Field(max_length=100)


class EnrolledCycle(BaseModel):
    cycle_year: int
    enrolment_id: int


class CertificateOut(BaseModel):
    certificate_number: str
    position: str
    category: str
    status: str
    remark: str
    enrolments: list[EnrolledCycle]


class Cycles(BaseModel):
    cycles: list[int]
    required_hours: float
    professional_hours: float
    general_hours: float
    message: str


class PackageCourseOut(BaseModel):
    code: str
    title: str
    kind: str
    hours: float


class PackageOut(BaseModel):
    code: str
    title: str
    courses: list[PackageCourseOut]
    professional_hours: float
    general_hours: float


class EnrolRequest(BaseModel):
    certificate_number: CertificateNumber
    cycle_year: int = Field(ge=1900, le=9999)
    package_code: str = Field(max_length=30)


class OrderCourseOut(BaseModel):
    seq: int
    title: str
    kind: str
    hours: float
    duration_seconds: int
    credited_seconds: float
    completed: bool


class AssessmentState(BaseModel):
    passed: bool
    last_score: int | None
    retry_at: datetime | None
    in_progress: bool


class EnrolmentOut(BaseModel):
    id: int
    order_number: str
    certificate_number: str
    position: str
    cycle_year: int
    package_title: str
    general_exempt: bool
    created_at: datetime
    courses: list[OrderCourseOut]
    total_hours: float
    progress_percent: int
    courses_completed: bool
    assessment: AssessmentState
    reviewed: bool
    status: str
    blocked_by: str | None


class WatchOut(BaseModel):
    session_id: str
    title: str
    seq: int
    media_url: str
    duration_seconds: int
    resume_at: float
    heartbeat_seconds: float
    free_replay: bool


class HeartbeatIn(BaseModel):
    seq: int = Field(ge=1, le=10_000_000)
    position: float = Field(allow_inf_nan=False)
    rate: float = Field(default=1.0, allow_inf_nan=False)


class HeartbeatOut(BaseModel):
    credited_seconds: float
    duration_seconds: int
    course_completed: bool
    all_courses_completed: bool
    free_replay: bool


class QuestionOut(BaseModel):
    index: int
    stem: str
    options: list[str]
    multiple: bool
    answer: str | None


class PaperOut(BaseModel):
    total: int
    answered: int
    questions: list[QuestionOut]
    next_index: int | None
    submitted: bool
    score: int | None
    passed: bool | None
    pass_mark: int
    message: str


class AnswerIn(BaseModel):
    answer: str = Field(max_length=20, description="选项字母，如 A 或 ACD")


class PlayerLinkIn(BaseModel):
    enrolment_id: EnrolmentId


class PlayerLink(BaseModel):
    url: str
    expires_at: datetime


class TicketIn(BaseModel):
    ticket: str = Field(max_length=400)


class Ticket(BaseModel):
    token: str
    enrolment_id: int

"""Table models. Importing this package registers every table on `Base.metadata` (for Alembic)."""

from storage.models.assistant import ChatBinding, ChatLinkCode, ChatPush, Conversation, ConversationEvent
from storage.models.base import Base
from storage.models.documents import ECertificate, TrainingProof
from storage.models.learning import (
    AssessmentAttempt,
    Course,
    CoursePackage,
    Enrolment,
    EnrolmentCourse,
    HoursClearance,
    LearningAccount,
    LearningCertificate,
    LearningEvent,
    PackageCourse,
    Question,
    RejectedReport,
    WatchSession,
)
from storage.models.notices import Notice, NoticeBroadcast, NoticeOptOut
from storage.models.paces import SendPace
from storage.models.registry import AuthToken, Certificate, HoursRecord, Person, Photo, RegistryAccount
from storage.models.sms import SmsCode, SmsMessage
from storage.models.staff import (
    Handoff,
    HandoffMessage,
    HandoffTopic,
    StaffAudit,
    StaffMember,
    StaffSession,
)
from storage.models.telegram import TelegramButton, TelegramChat, TelegramUpdate
from storage.models.wechat import WechatButton, WechatFollower, WechatMessage, WechatToken

__all__ = [
    "AssessmentAttempt",
    "AuthToken",
    "Base",
    "Certificate",
    "ChatBinding",
    "ChatLinkCode",
    "ChatPush",
    "Conversation",
    "ConversationEvent",
    "Course",
    "CoursePackage",
    "ECertificate",
    "Enrolment",
    "EnrolmentCourse",
    "Handoff",
    "HandoffMessage",
    "HandoffTopic",
    "HoursClearance",
    "HoursRecord",
    "LearningAccount",
    "LearningCertificate",
    "LearningEvent",
    "Notice",
    "NoticeBroadcast",
    "NoticeOptOut",
    "PackageCourse",
    "Person",
    "Photo",
    "Question",
    "RegistryAccount",
    "RejectedReport",
    "SendPace",
    "SmsCode",
    "SmsMessage",
    "StaffAudit",
    "StaffMember",
    "StaffSession",
    "TelegramButton",
    "TelegramChat",
    "TelegramUpdate",
    "TrainingProof",
    "WatchSession",
    "WechatButton",
    "WechatFollower",
    "WechatMessage",
    "WechatToken",
]

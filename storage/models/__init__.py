"""Table models. Importing this package registers every table on `Base.metadata` (for Alembic)."""

from storage.models.base import Base
from storage.models.registry import AuthToken, Certificate, HoursRecord, Person, Photo, RegistryAccount
from storage.models.sms import SmsCode, SmsMessage

__all__ = [
    "AuthToken",
    "Base",
    "Certificate",
    "HoursRecord",
    "Person",
    "Photo",
    "RegistryAccount",
    "SmsCode",
    "SmsMessage",
]

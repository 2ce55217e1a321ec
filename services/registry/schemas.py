"""Request and response bodies of the management-system API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class CodeRequest(BaseModel):
    """The registration's details: checked before any code is texted."""

    name: str = Field(max_length=50)
    id_number: str = Field(max_length=30)
    phone: str = Field(max_length=30)


class CodeSent(BaseModel):
    message: str
    resend_after: datetime


class RegisterRequest(CodeRequest):
    code: str = Field(max_length=10, description="短信验证码（6位数字）")


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
    message: str


class PasswordChange(BaseModel):
    old_password: str = Field(max_length=100)
    new_password: str = Field(max_length=100)


class Profile(BaseModel):
    name: str
    id_number: str
    phone: str
    employer: str | None
    education: str | None
    must_change_password: bool
    has_photo: bool


class ProfileUpdate(BaseModel):
    employer: str | None = Field(default=None, max_length=100)
    education: str | None = Field(default=None, max_length=20)


class PhotoInfo(BaseModel):
    content_type: str
    size_bytes: int
    width: int
    height: int
    uploaded_at: datetime
    message: str


class HoursOut(BaseModel):
    cycle_year: int
    professional_hours: float
    general_hours: float
    total_hours: float
    general_exempt: bool
    source: str
    recorded_at: datetime


class CertificateHoursOut(HoursOut):
    certificate_number: str
    position: str


class CertificateOut(BaseModel):
    """One row of 证书管理: 姓名, 证书编号, 岗位名称, category, 证书状态, 备注, issue date."""

    name: str
    certificate_number: str
    position: str
    category: str
    status: str
    remark: str
    issued_on: date
    hours: list[HoursOut]


class ImportErrorOut(BaseModel):
    line: int
    message: str


class ImportOut(BaseModel):
    imported: bool
    created: int
    updated: int
    unchanged: int
    errors: list[ImportErrorOut]


class AccountResetRequest(BaseModel):
    id_number: str = Field(max_length=30)
    reason: str = Field(max_length=200, description="重置原因，例如核实身份的方式")
    operator: str = Field(max_length=50, description="办理人")


class AccountResetOut(BaseModel):
    id: int
    id_number_masked: str
    operator: str
    reason: str
    registry_phone_masked: str | None
    learning_phone_masked: str | None
    photo_removed: bool
    chats_unbound: int
    created_at: datetime
    message: str = "账号已重置，本人可以用自己的手机号重新注册"

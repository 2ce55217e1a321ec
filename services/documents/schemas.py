"""Request and answer bodies of the documents API; statuses are the words the public page uses."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class ECertificateOut(BaseModel):
    certificate_number: str
    position: str
    category: str
    version: int
    status: str = Field(description="有效 / 已更新 / 已撤销")
    issued_on: date
    renewed: bool = Field(description="True when this call issued a new version")
    verify_url: str
    download_url: str
    download_expires_at: datetime
    message: str


class ProofOut(BaseModel):
    certificate_number: str
    position: str
    cycle_year: int
    total_hours: float
    assessment_score: int | None
    status: str = Field(description="有效 / 已更新 / 已撤销")
    issued_on: date
    verify_url: str
    download_url: str
    download_expires_at: datetime
    message: str


class VerifiedOut(BaseModel):
    document: str
    holder: str
    certificate_number: str
    position: str
    cycle_year: int | None
    status: str
    issued_on: date


class RevocationIn(BaseModel):
    reason: str = Field(min_length=1, max_length=200)


class RevocationOut(BaseModel):
    certificate_number: str
    revoked_versions: list[int]
    message: str

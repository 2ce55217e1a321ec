"""Trainees as the management system holds them: an account, a photo, certificates and recorded hours."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date

import httpx
from sqlalchemy import delete, select

from services.context import Backend
from storage.models import Certificate, HoursRecord, Person
from tests.people import make_id_number, make_phone
from tests.photos.synth import id_photo_jpeg
from tests.registry.signup import register_registry

_numbers = itertools.count(1)


@dataclass(frozen=True)
class Trainee:
    name: str
    id_number: str
    phone: str
    person_id: int
    auth: dict[str, str]


async def login(client: httpx.AsyncClient, id_number: str, phone: str) -> dict[str, str]:
    answer = await client.post("/api/registry/sessions", json={"login": id_number, "password": phone})
    return {"Authorization": f"Bearer {answer.json()['token']}"}


async def registered(
    client: httpx.AsyncClient, backend: Backend, *, name: str = "古林前", photo: bool = True
) -> Trainee:
    id_number, phone = make_id_number("19780512"), make_phone()
    created = await register_registry(client, name=name, id_number=id_number, phone=phone)
    assert created.status_code == 201, created.text
    auth = await login(client, id_number, phone)
    if photo:
        uploaded = await client.put(
            "/api/registry/me/photo", files={"file": ("me.jpg", id_photo_jpeg(), "image/jpeg")}, headers=auth
        )
        assert uploaded.status_code == 201, uploaded.text
    async with backend.sessions() as session:
        person_id = await session.scalar(select(Person.id).where(Person.id_number == id_number))
    assert person_id is not None
    return Trainee(name=name, id_number=id_number, phone=phone, person_id=person_id, auth=auth)


async def add_certificate(
    backend: Backend,
    trainee: Trainee,
    *,
    position: str = "安全员",
    category: str = "专业人员",
    status: str = "正常",
    remark: str = "",
    hours: dict[int, tuple[float, float]] | None = None,
) -> str:
    """A certificate of the trainee with hours per cycle year (professional, general); its number."""
    number = f"吉建培2021{next(_numbers):06d}"
    async with backend.transaction() as session:
        certificate = Certificate(
            person_id=trainee.person_id,
            certificate_number=number,
            position=position,
            category=category,
            status=status,
            remark=remark,
            issued_on=date(2021, 9, 2),
        )
        session.add(certificate)
        await session.flush()
        for year, (professional, general) in (hours if hours is not None else {2025: (22, 10)}).items():
            session.add(
                HoursRecord(
                    certificate_id=certificate.id,
                    cycle_year=year,
                    professional_hours=professional,
                    general_hours=general,
                )
            )
    return number


async def record_hours(backend: Backend, number: str, year: int, professional: float, general: float) -> None:
    async with backend.transaction() as session:
        certificate_id = await session.scalar(
            select(Certificate.id).where(Certificate.certificate_number == number)
        )
        session.add(
            HoursRecord(
                certificate_id=certificate_id,
                cycle_year=year,
                professional_hours=professional,
                general_hours=general,
            )
        )


async def withdraw_hours(backend: Backend, number: str, year: int) -> None:
    async with backend.transaction() as session:
        await session.execute(
            delete(HoursRecord).where(
                HoursRecord.cycle_year == year,
                HoursRecord.certificate_id
                == select(Certificate.id).where(Certificate.certificate_number == number).scalar_subquery(),
            )
        )

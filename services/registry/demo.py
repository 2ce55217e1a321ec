"""A small, clearly fictional cohort for trying jianpei out; loading it twice changes nothing.

The people are named after Jilin landmarks, except 古林前, the example row of the provincial guide.
Only 古林前 gets an account, so registering can be tried with the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from services.context import Backend
from services.registry import accounts
from services.registry.certificate_import import ImportResult, import_certificates
from storage.models import Person, RegistryAccount

DEMO_CSV = Path(__file__).with_name("demo_certificates.csv")
DEMO_ACCOUNTS = {"220102197805120319": "13900000001"}


@dataclass(frozen=True)
class DemoLoad:
    certificates: ImportResult
    accounts_created: int


async def load_demo_data(backend: Backend) -> DemoLoad:
    async with backend.transaction() as session:
        report = await import_certificates(
            session, DEMO_CSV.read_bytes(), today=backend.now().date(), skip_invalid=False
        )
    assert report.result is not None, report.errors
    created = 0
    for id_number, phone in DEMO_ACCOUNTS.items():
        async with backend.sessions() as session:
            person = await session.scalar(select(Person).where(Person.id_number == id_number))
            assert person is not None
            registered = await session.scalar(
                select(RegistryAccount.id).where(RegistryAccount.person_id == person.id)
            )
        if registered is None:
            await accounts.open_demo_account(backend, name=person.name, id_number=id_number, phone=phone)
            created += 1
    return DemoLoad(certificates=report.result, accounts_created=created)

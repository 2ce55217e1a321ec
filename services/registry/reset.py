"""Staff give a person's accounts back to them: anyone who knew a worker's name and ID number could
register them first (with a phone of their own) and upload the never-changeable photo.

After staff have checked the caller's identity, a reset removes what belongs to whoever registered:
the login and phone (password, lock-out) of both systems and every session, the photo and its
file, the profile details typed through the account (工作单位, 学历), and every chat bound to the
person. The person then registers again with their own phone. What the authority uploaded and what
the person earned stays, because it belongs to the person and not to an account: certificates,
recorded hours, enrolments with their progress and papers, 学时清零 records and issued documents
(an e-certificate shows the photo on file, so it shows the new photo once there is one).

Every reset leaves an `AccountReset` row (who, when, why, what went; ID number and phones masked)
and an `account_reset` log line.
"""

from __future__ import annotations

from typing import Literal

import structlog
from sqlalchemy import delete, select, update

from rules.identity import InvalidIdentity, mask_id_number, mask_phone, parse_id_number
from services.context import Backend
from services.errors import AppError
from services.registry.photo_slot import photo_dir
from storage.models import (
    AuthToken,
    ChatBinding,
    ChatLinkCode,
    LearningAccount,
    Person,
    Photo,
    RegistryAccount,
    WatchSession,
)
from storage.models.registry import AccountReset

log = structlog.get_logger(__name__)

Via = Literal["api", "cli"]


async def reset_account(
    backend: Backend, *, id_number: str, reason: str, operator: str, via: Via
) -> AccountReset:
    """Remove the accounts, photo and chat bindings of the person with this ID number, and record it."""
    reason, operator = reason.strip(), operator.strip()
    if len(reason) < 2:
        raise AppError(422, "reason_required", "请写明重置账号的原因（例如核实身份的方式）")
    if not operator:
        raise AppError(422, "operator_required", "请写明是谁办理的重置")
    try:
        clean_id = parse_id_number(id_number, today=backend.now().date()).value
    except InvalidIdentity as exc:
        raise AppError(422, "invalid_id_number", str(exc)) from None
    now = backend.now()
    async with backend.transaction() as session:
        person = await session.scalar(select(Person).where(Person.id_number == clean_id).with_for_update())
        if person is None:
            raise AppError(404, "person_not_found", "没有这个身份证号的人员")
        registry = await session.scalar(select(RegistryAccount).where(RegistryAccount.person_id == person.id))
        learning = await session.scalar(select(LearningAccount).where(LearningAccount.person_id == person.id))
        photo = await session.scalar(select(Photo).where(Photo.person_id == person.id))
        chats = (
            await session.scalars(select(ChatBinding.sender_id).where(ChatBinding.person_id == person.id))
        ).all()
        if registry is None and learning is None and photo is None and not chats:
            raise AppError(404, "nothing_to_reset", "这个身份证号还没有注册账号，也没有照片和绑定的聊天")
        for account in (registry, learning):
            if account is not None:
                await session.delete(account)
        if photo is not None:
            await session.delete(photo)
        await session.execute(delete(AuthToken).where(AuthToken.person_id == person.id))
        await session.execute(delete(ChatBinding).where(ChatBinding.person_id == person.id))
        # and a link a removed chat made no longer binds another chat to the person
        await session.execute(delete(ChatLinkCode).where(ChatLinkCode.person_id == person.id))
        # A player opened by the old login stops crediting; the progress it made stays.
        await session.execute(
            update(WatchSession)
            .where(WatchSession.person_id == person.id, WatchSession.ended_at.is_(None))
            .values(ended_at=now, end_reason="account_reset")
        )
        person.employer = None
        person.education = None
        record = AccountReset(
            person_id=person.id,
            id_number_masked=mask_id_number(clean_id),
            operator=operator[:50],
            via=via,
            reason=reason[:200],
            registry_phone_masked=mask_phone(registry.phone) if registry else None,
            learning_phone_masked=mask_phone(learning.phone) if learning else None,
            photo_removed=photo is not None,
            chats_unbound=len(chats),
            created_at=now,
        )
        session.add(record)
    # The file goes only once the row that pointed to it is gone for good.
    if photo is not None:
        (photo_dir(backend) / photo.path).unlink(missing_ok=True)
    log.info(
        "account_reset",
        reset_id=record.id,
        id_number=record.id_number_masked,
        operator=record.operator,
        via=via,
        registry_account=registry is not None,
        learning_account=learning is not None,
        photo_removed=record.photo_removed,
        chats_unbound=record.chats_unbound,
    )
    return record

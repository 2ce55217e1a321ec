"""The provincial authority's certificate upload: a UTF-8 CSV, validated whole before anything is written.

Header: name,id_number,certificate_number,position,category,status,remark,issued_on.
Re-importing a file updates rows by certificate number and never duplicates them. A file with any
invalid row imports nothing unless the caller asks to skip invalid rows.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from rules.identity import InvalidIdentity, parse_id_number, validate_name
from rules.positions import Category, canonical_position, category_of
from storage.models import Certificate, Person

COLUMNS = ("name", "id_number", "certificate_number", "position", "category", "status", "remark", "issued_on")
# The columns in the administrator's words, naming each problem of a row.
LABELS = {
    "name": "姓名",
    "id_number": "身份证号",
    "certificate_number": "证书编号",
    "position": "岗位名称",
    "category": "人员类别",
    "status": "证书状态",
    "remark": "备注",
    "issued_on": "发证日期",
}
STATUSES = ("正常", "非正常")
_T = TypeVar("_T")
_CERTIFICATE_NUMBER = re.compile(r"^[\u4e00-\u9fff]{0,8}\d{4,20}$")
_DATE_FORMATS = (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"))


@dataclass(frozen=True)
class CertificateRow:
    line: int
    name: str
    id_number: str
    certificate_number: str
    position: str
    category: str
    status: str
    remark: str
    issued_on: date


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"第{self.line}行：{self.message}"


@dataclass
class ParsedFile:
    rows: list[CertificateRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int


class UnreadableFile(ValueError):
    """The whole file cannot be read (encoding, header); the message is Chinese."""


def validate_certificate_number(raw: str) -> str:
    value = raw.strip()
    if not (6 <= len(value) <= 20 and _CERTIFICATE_NUMBER.match(value)):
        raise InvalidIdentity("证书编号应为6到20位，由数字组成，前面可以带发证机关的汉字简称")
    return value


def _parse_date(raw: str, today: date) -> date:
    for pattern in _DATE_FORMATS:
        if match := pattern.match(raw.strip()):
            try:
                issued = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            except ValueError:
                break
            if issued > today:
                raise InvalidIdentity("发证日期不能晚于今天")
            return issued
    raise InvalidIdentity(f"发证日期“{raw}”不对，应写成 2023-05-01 这样")


def _name(raw: str) -> str:
    try:
        return validate_name(raw)
    except InvalidIdentity:
        raise InvalidIdentity(f"姓名“{raw.strip()}”不像真实姓名，应为2到20个汉字") from None


def _category(raw: str, position: str | None) -> str:
    category = raw.strip()
    if category not in (Category.PROFESSIONAL.value, Category.SKILLED.value):
        raise InvalidIdentity("人员类别应为“专业人员”或“技能人员”")
    if position is not None and category_of(position) != category:
        raise InvalidIdentity(f"{position}属于{category_of(position)}，不是{category}")
    return category


def _position(raw: str) -> str:
    position = canonical_position(raw)
    if position is None:
        raise InvalidIdentity(f"岗位名称“{raw.strip()}”不在岗位目录里")
    return position


def _status(raw: str) -> str:
    if raw.strip() not in STATUSES:
        raise InvalidIdentity(f"证书状态“{raw.strip()}”不对，应为“正常”或“非正常”")
    return raw.strip()


def _remark(raw: str) -> str:
    if len(raw.strip()) > 100:
        raise InvalidIdentity("备注不能超过100个字")
    return raw.strip()


def _parse_row(line: int, record: dict[str, str], today: date) -> CertificateRow | RowError:
    """The row, or every problem it has in one error: the administrator fixes the line once."""
    problems: list[str] = []

    def checked(column: str, parse: Callable[[str], _T]) -> _T | None:
        try:
            return parse(record[column])
        except InvalidIdentity as exc:
            said = str(exc)
            problems.append(said if said.startswith(LABELS[column]) else f"{LABELS[column]}：{said}")
            return None

    name = checked("name", _name)
    id_number = checked("id_number", lambda raw: parse_id_number(raw, today=today).value)
    number = checked("certificate_number", validate_certificate_number)
    position = checked("position", _position)
    category = checked("category", lambda raw: _category(raw, position))
    status = checked("status", _status)
    remark = checked("remark", _remark)
    issued = checked("issued_on", lambda raw: _parse_date(raw, today))
    if problems:
        return RowError(line, "；".join(problems))
    assert name and id_number and number and position and category and status and remark is not None
    assert issued is not None
    return CertificateRow(line, name, id_number, number, position, category, status, remark, issued)


def parse_csv(data: bytes, *, today: date) -> ParsedFile:
    """Read and validate every row; raises UnreadableFile when the file as a whole is wrong."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableFile(
            "文件不是 UTF-8 编码（可能是 GBK），请用“另存为 → CSV UTF-8”重新保存后再导入"
        ) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        raise UnreadableFile(f"表头缺少这些列：{', '.join(missing)}；表头应为 {','.join(COLUMNS)}")
    reader.fieldnames = header

    parsed = ParsedFile()
    seen_numbers: dict[str, int] = {}
    names_by_id: dict[str, tuple[str, int]] = {}
    for record in reader:
        line = reader.line_num
        values = {column: (record.get(column) or "") for column in COLUMNS}
        if not any(value.strip() for value in values.values()):
            continue
        if None in record:
            parsed.errors.append(RowError(line, "这一行的列数比表头多"))
            continue
        row = _parse_row(line, values, today)
        if isinstance(row, RowError):
            parsed.errors.append(row)
            continue
        if row.certificate_number in seen_numbers:
            parsed.errors.append(
                RowError(
                    line,
                    f"证书编号 {row.certificate_number} 与第{seen_numbers[row.certificate_number]}行重复",
                )
            )
            continue
        known = names_by_id.get(row.id_number)
        if known is not None and known[0] != row.name:
            parsed.errors.append(
                RowError(line, f"同一身份证号在第{known[1]}行的姓名是{known[0]}，这里是{row.name}")
            )
            continue
        seen_numbers[row.certificate_number] = line
        names_by_id.setdefault(row.id_number, (row.name, line))
        parsed.rows.append(row)
    return parsed


_LOOKUP_BATCH = 1000  # keeps every IN (...) under the bind-parameter limits of SQLite and asyncpg


def _batches(values: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(values), _LOOKUP_BATCH):
        yield values[start : start + _LOOKUP_BATCH]


async def _people_by_id_number(session: AsyncSession, id_numbers: set[str]) -> dict[str, Person]:
    found: dict[str, Person] = {}
    for batch in _batches(sorted(id_numbers)):
        for person in (await session.scalars(select(Person).where(Person.id_number.in_(batch)))).all():
            found[person.id_number] = person
    return found


async def _certificates_by_number(session: AsyncSession, numbers: list[str]) -> dict[str, Certificate]:
    found: dict[str, Certificate] = {}
    for batch in _batches(numbers):
        query = (
            select(Certificate)
            .where(Certificate.certificate_number.in_(batch))
            .options(selectinload(Certificate.person))
        )
        for certificate in (await session.scalars(query)).all():
            found[certificate.certificate_number] = certificate
    return found


async def check_against_database(session: AsyncSession, parsed: ParsedFile) -> None:
    """Move rows that contradict stored data (another holder, another name) into the errors."""
    people = await _people_by_id_number(session, {row.id_number for row in parsed.rows})
    certificates = await _certificates_by_number(session, [row.certificate_number for row in parsed.rows])
    kept: list[CertificateRow] = []
    for row in parsed.rows:
        certificate = certificates.get(row.certificate_number)
        person = people.get(row.id_number)
        if certificate is not None and certificate.person.id_number != row.id_number:
            parsed.errors.append(
                RowError(row.line, f"证书编号 {row.certificate_number} 已登记在另一个人名下")
            )
        elif person is not None and person.name != row.name:
            parsed.errors.append(
                RowError(row.line, f"这个身份证号已登记的姓名是{person.name}，与{row.name}不一致")
            )
        else:
            kept.append(row)
    parsed.rows = kept
    parsed.errors.sort(key=lambda error: error.line)


async def apply_rows(session: AsyncSession, rows: list[CertificateRow]) -> ImportResult:
    """Insert new people and certificates, update changed certificates, inside the caller's transaction."""
    people = await _people_by_id_number(session, {row.id_number for row in rows})
    certificates = await _certificates_by_number(session, [row.certificate_number for row in rows])
    created = updated = unchanged = 0
    for row in rows:
        person = people.get(row.id_number)
        if person is None:
            person = people[row.id_number] = Person(id_number=row.id_number, name=row.name)
            session.add(person)
        fields = {
            "position": row.position,
            "category": row.category,
            "status": row.status,
            "remark": row.remark,
            "issued_on": row.issued_on,
        }
        certificate = certificates.get(row.certificate_number)
        if certificate is None:
            session.add(Certificate(person=person, certificate_number=row.certificate_number, **fields))
            created += 1
        elif any(getattr(certificate, key) != value for key, value in fields.items()):
            for key, value in fields.items():
                setattr(certificate, key, value)
            updated += 1
        else:
            unchanged += 1
    return ImportResult(created=created, updated=updated, unchanged=unchanged)


@dataclass(frozen=True)
class ImportReport:
    errors: list[RowError]
    result: ImportResult | None

    @property
    def imported(self) -> bool:
        return self.result is not None


async def import_certificates(
    session: AsyncSession, data: bytes, *, today: date, skip_invalid: bool
) -> ImportReport:
    """Validate the whole file, then write all valid rows, or nothing when any row is invalid."""
    parsed = parse_csv(data, today=today)
    await check_against_database(session, parsed)
    if parsed.errors and not skip_invalid:
        return ImportReport(errors=parsed.errors, result=None)
    return ImportReport(errors=parsed.errors, result=await apply_rows(session, parsed.rows))

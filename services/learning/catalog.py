"""The course catalog the operator edits as YAML: courses, recommended packages, the question bank.

`read_catalog` checks the whole file (and the question bank and media it names) and reports every
problem in Chinese; `apply_catalog` then makes the database match it. Loading the same file twice
changes nothing; courses, packages and questions left out of the file are retired, never deleted,
because orders and papers already refer to them.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from rules.positions import canonical_position
from services.settings import Settings
from storage.models import Course, CoursePackage, PackageCourse, Question
from storage.models.learning import CourseKind

DEMO_CATALOG = Path(__file__).parent / "demo" / "catalog.yml"
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,29}$")
_MEDIA_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-.]{0,99}$")
_MEDIA_TYPES = {".webm": "video/webm", ".mp4": "video/mp4"}
_LETTERS = "ABCDEF"


class CatalogError(Exception):
    """The file was not loaded; `problems` says what to fix, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class CourseSpec:
    code: str
    title: str
    kind: str
    positions: tuple[str, ...]
    hours: float
    duration_seconds: int
    media: str
    media_path: Path


@dataclass(frozen=True)
class PackageSpec:
    code: str
    title: str
    positions: tuple[str, ...]
    courses: tuple[str, ...]


@dataclass(frozen=True)
class QuestionSpec:
    code: str
    positions: tuple[str, ...]
    stem: str
    options: tuple[str, ...]
    answer: str


@dataclass
class Catalog:
    courses: list[CourseSpec] = field(default_factory=list)
    packages: list[PackageSpec] = field(default_factory=list)
    questions: list[QuestionSpec] = field(default_factory=list)


@dataclass
class LoadSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    retired: int = 0

    def line(self) -> str:
        return f"新增{self.created}，更新{self.updated}，未变{self.unchanged}，停用{self.retired}"


def media_type(name: str) -> str:
    return _MEDIA_TYPES.get(Path(name).suffix.lower(), "application/octet-stream")


def media_dir(settings: Settings) -> Path:
    """Where loaded course media are kept and served from."""
    return settings.data_dir / "learning" / "media"


def _load_yaml(path: Path, problems: list[str]) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(f"找不到文件 {path}")
    except UnicodeDecodeError:
        problems.append(f"{path.name} 不是 UTF-8 编码的文本")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第{mark.line + 1}行" if mark is not None else ""
        problems.append(f"{path.name} {where}不是有效的 YAML")
    return None


def _positions(raw: Any, where: str, problems: list[str], *, required: bool) -> tuple[str, ...]:
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        problems.append(f"{where}：positions 应是岗位名称的列表")
        return ()
    if required and not raw:
        problems.append(f"{where}：至少要写一个岗位")
    result: list[str] = []
    for item in raw:
        name = canonical_position(str(item))
        if name is None:
            problems.append(f"{where}：不认识的岗位“{item}”")
        elif name not in result:
            result.append(name)
    return tuple(result)


def _text(raw: Any, where: str, label: str, limit: int, problems: list[str]) -> str:
    if not isinstance(raw, str) or not raw.strip():
        problems.append(f"{where}：缺少{label}")
        return ""
    if len(raw.strip()) > limit:
        problems.append(f"{where}：{label}不能超过{limit}个字")
    return raw.strip()


def _code(raw: Any, where: str, seen: set[str], problems: list[str]) -> str:
    code = str(raw).strip() if raw is not None else ""
    if not _CODE.match(code):
        problems.append(f"{where}：编号“{code}”只能用字母、数字、- 和 _，最长30位")
    elif code in seen:
        problems.append(f"{where}：编号 {code} 重复了")
    seen.add(code)
    return code


def _number(raw: Any, where: str, label: str, problems: list[str]) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw <= 0:
        problems.append(f"{where}：{label}应是大于0的数")
        return 0.0
    return float(raw)


def _course(raw: Any, index: int, base: Path, seen: set[str], problems: list[str]) -> CourseSpec | None:
    where = f"courses 第{index}项"
    if not isinstance(raw, dict):
        problems.append(f"{where}：应是一门课程的各项设置")
        return None
    code = _code(raw.get("code"), where, seen, problems)
    where = f"课程 {code or index}"
    kind = raw.get("kind")
    if kind not in (CourseKind.GENERAL, CourseKind.PROFESSIONAL):
        problems.append(f"{where}：kind 应是“通用”或“专业”")
    duration = raw.get("duration")
    if isinstance(duration, bool) or not isinstance(duration, int) or duration <= 0:
        problems.append(f"{where}：duration 应是视频的整秒数（大于0）")
        duration = 0
    media = str(raw.get("media") or "")
    media_path = base / media
    if not _MEDIA_NAME.match(media) or media_type(media) == "application/octet-stream":
        problems.append(f"{where}：media 应是 media_dir 文件夹里的 .webm 或 .mp4 文件名")
    elif not media_path.is_file():
        problems.append(f"{where}：找不到视频文件 {media}")
    return CourseSpec(
        code=code,
        title=_text(raw.get("title"), where, "课程名称", 100, problems),
        kind=str(kind),
        positions=_positions(raw.get("positions"), where, problems, required=False),
        hours=_number(raw.get("hours"), where, "学时 hours", problems),
        duration_seconds=int(duration),
        media=media,
        media_path=media_path,
    )


def _package(raw: Any, index: int, seen: set[str], problems: list[str]) -> PackageSpec | None:
    where = f"packages 第{index}项"
    if not isinstance(raw, dict):
        problems.append(f"{where}：应是一个课程包的各项设置")
        return None
    code = _code(raw.get("code"), where, seen, problems)
    where = f"课程包 {code or index}"
    courses = raw.get("courses")
    if not isinstance(courses, list) or not courses:
        problems.append(f"{where}：courses 应列出课程编号")
        courses = []
    codes = [str(item) for item in courses]
    if len(set(codes)) != len(codes):
        problems.append(f"{where}：同一门课程写了两次")
    return PackageSpec(
        code=code,
        title=_text(raw.get("title"), where, "课程包名称", 100, problems),
        positions=_positions(raw.get("positions"), where, problems, required=True),
        courses=tuple(codes),
    )


def _question(
    raw: Any, positions: tuple[str, ...], where: str, seen: set[str], problems: list[str]
) -> QuestionSpec | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}：应是一道题的各项设置")
        return None
    code = _code(raw.get("code"), where, seen, problems)
    where = f"试题 {code}"
    options = raw.get("options")
    if not isinstance(options, list) or not 2 <= len(options) <= len(_LETTERS):
        problems.append(f"{where}：options 应有2到{len(_LETTERS)}个选项")
        options = []
    answer = str(raw.get("answer") or "").strip().upper()
    letters = _LETTERS[: len(options)]
    if not answer or any(letter not in letters for letter in answer) or len(set(answer)) != len(answer):
        problems.append(f"{where}：answer 应是选项字母（{letters or 'A'} 中的一个或几个）")
    return QuestionSpec(
        code=code,
        positions=positions,
        stem=_text(raw.get("stem"), where, "题目 stem", 500, problems),
        options=tuple(str(option) for option in options),
        answer="".join(sorted(answer)),
    )


def _questions(raw: Any, problems: list[str]) -> list[QuestionSpec]:
    banks = raw.get("banks") if isinstance(raw, dict) else None
    if not isinstance(banks, list):
        problems.append("题库文件应有 banks 列表")
        return []
    seen: set[str] = set()
    result: list[QuestionSpec] = []
    for bank_index, bank in enumerate(banks, start=1):
        where = f"题库第{bank_index}组"
        if not isinstance(bank, dict) or not isinstance(bank.get("questions"), list):
            problems.append(f"{where}：应有 positions 和 questions")
            continue
        positions = _positions(bank.get("positions"), where, problems, required=False)
        for index, item in enumerate(bank["questions"], start=1):
            question = _question(item, positions, f"{where}第{index}题", seen, problems)
            if question is not None:
                result.append(question)
    return result


def _check_packages(catalog: Catalog, settings: Settings, problems: list[str]) -> None:
    courses = {course.code: course for course in catalog.courses}
    for package in catalog.packages:
        where = f"课程包 {package.code}"
        professional = general = 0.0
        for code in package.courses:
            course = courses.get(code)
            if course is None:
                problems.append(f"{where}：没有编号为 {code} 的课程")
                continue
            if course.positions and not set(package.positions) <= set(course.positions):
                problems.append(f"{where}：课程 {code} 不适用于课程包的全部岗位")
            if course.kind == CourseKind.GENERAL:
                general += course.hours
            else:
                professional += course.hours
        if professional < settings.learning_professional_hours:
            problems.append(
                f"{where}：专业课只有{professional:g}学时，每年至少要{settings.learning_professional_hours:g}学时"
            )
        if general < settings.learning_general_hours:
            problems.append(
                f"{where}：通用课只有{general:g}学时，每年要{settings.learning_general_hours:g}学时"
            )
        total, required = professional + general, settings.learning_required_hours
        if total < required:
            problems.append(f"{where}：合计只有{total:g}学时，每年至少要{required:g}学时")
        for position in package.positions:
            available = sum(1 for q in catalog.questions if not q.positions or position in q.positions)
            if available < settings.learning_paper_size:
                problems.append(
                    f"{where}：岗位“{position}”的题库只有{available}题，少于每张试卷的{settings.learning_paper_size}题"
                )


def read_catalog(path: Path, settings: Settings) -> Catalog:
    """The checked catalog of `path`, or CatalogError listing every problem."""
    problems: list[str] = []
    raw = _load_yaml(path, problems)
    if problems:
        raise CatalogError(problems)
    if not isinstance(raw, dict):
        raise CatalogError(["目录文件应有 courses、packages 和 question_bank 三项"])
    catalog = Catalog()
    folder = raw.get("media_dir") or "."
    if not isinstance(folder, str) or not (path.parent / folder).is_dir():
        problems.append(f"找不到视频文件夹 media_dir: {folder}")
    media_base = path.parent / str(folder)
    seen_courses: set[str] = set()
    for index, item in enumerate(raw.get("courses") or [], start=1):
        if (course := _course(item, index, media_base, seen_courses, problems)) is not None:
            catalog.courses.append(course)
    seen_packages: set[str] = set()
    for index, item in enumerate(raw.get("packages") or [], start=1):
        if (package := _package(item, index, seen_packages, problems)) is not None:
            catalog.packages.append(package)
    if not catalog.courses or not catalog.packages:
        problems.append("目录里至少要有一门课程和一个课程包")
    bank = raw.get("question_bank")
    if not isinstance(bank, str) or not bank:
        problems.append("缺少 question_bank（题库文件名，与目录文件放在同一文件夹）")
    else:
        bank_raw = _load_yaml(path.parent / bank, problems)
        if bank_raw is not None:
            catalog.questions = _questions(bank_raw, problems)
    if not problems:
        _check_packages(catalog, settings, problems)
    if problems:
        raise CatalogError(problems)
    return catalog


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _copy_media(catalog: Catalog, settings: Settings) -> None:
    target_dir = media_dir(settings)
    target_dir.mkdir(parents=True, exist_ok=True)
    for course in catalog.courses:
        target = target_dir / course.media
        if not target.exists() or _sha256(target) != _sha256(course.media_path):
            temporary = target.with_suffix(target.suffix + ".part")
            shutil.copyfile(course.media_path, temporary)
            temporary.replace(target)


def _assign(row: Any, values: dict[str, Any], now: datetime) -> bool:
    """Set the values that differ; stamps the row with the backend's clock when anything changed."""
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    if changed:
        if row.created_at is None:
            row.created_at = now
        row.updated_at = now
    return changed


def _count(summary: LoadSummary, *, created: bool, changed: bool) -> None:
    if created:
        summary.created += 1
    elif changed:
        summary.updated += 1
    else:
        summary.unchanged += 1


async def apply_catalog(
    session: AsyncSession, catalog: Catalog, settings: Settings, *, now: datetime
) -> LoadSummary:
    """Make courses, packages and questions match the catalog (inside the caller's transaction)."""
    _copy_media(catalog, settings)
    summary = LoadSummary()
    courses = {row.code: row for row in await session.scalars(select(Course))}
    for spec in catalog.courses:
        row = courses.get(spec.code)
        created = row is None
        if row is None:
            row = courses[spec.code] = Course(code=spec.code)
            session.add(row)
        values = {
            "title": spec.title,
            "kind": spec.kind,
            "positions": list(spec.positions),
            "hours": spec.hours,
            "duration_seconds": spec.duration_seconds,
            "media": spec.media,
            "active": True,
        }
        _count(summary, created=created, changed=_assign(row, values, now))
    wanted = {spec.code for spec in catalog.courses}
    for code, row in courses.items():
        if code not in wanted and row.active:
            _assign(row, {"active": False}, now)
            summary.retired += 1
    await session.flush()

    packages = {
        row.code: row
        for row in await session.scalars(select(CoursePackage).options(selectinload(CoursePackage.items)))
    }
    for package_spec in catalog.packages:
        package = packages.get(package_spec.code)
        created = package is None
        if package is None:
            package = packages[package_spec.code] = CoursePackage(code=package_spec.code, items=[])
            session.add(package)
        values = {"title": package_spec.title, "positions": list(package_spec.positions), "active": True}
        changed = _assign(package, values, now)
        current = [item.course_id for item in package.items]
        target = [courses[code].id for code in package_spec.courses]
        if current != target:
            package.items.clear()
            await session.flush()
            package.items.extend(
                PackageCourse(course_id=course_id, seq=seq) for seq, course_id in enumerate(target, start=1)
            )
            package.updated_at = now
            changed = True
        _count(summary, created=created, changed=changed)
    wanted = {spec.code for spec in catalog.packages}
    for code, package in packages.items():
        if code not in wanted and package.active:
            _assign(package, {"active": False}, now)
            summary.retired += 1

    questions = {row.code: row for row in await session.scalars(select(Question))}
    for question_spec in catalog.questions:
        question = questions.get(question_spec.code)
        created = question is None
        if question is None:
            question = questions[question_spec.code] = Question(code=question_spec.code)
            session.add(question)
        values = {
            "positions": list(question_spec.positions),
            "stem": question_spec.stem,
            "options": list(question_spec.options),
            "answer": question_spec.answer,
            "active": True,
        }
        _count(summary, created=created, changed=_assign(question, values, now))
    wanted = {spec.code for spec in catalog.questions}
    for code, question in questions.items():
        if code not in wanted and question.active:
            _assign(question, {"active": False}, now)
            summary.retired += 1
    await session.flush()
    return summary

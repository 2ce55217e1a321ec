"""The operator's catalog: checked whole before anything is stored, idempotent, retiring what left."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from services.context import Backend
from services.learning.catalog import CatalogError, apply_catalog, read_catalog
from storage.models import Course, CoursePackage, Question
from tests.learning.conftest import run_cli, write_catalog


async def snapshot(backend: Backend) -> dict[str, list[tuple[object, ...]]]:
    async with backend.sessions() as session:
        return {
            "courses": [
                (c.code, c.title, c.hours, c.active)
                for c in await session.scalars(select(Course).order_by(Course.code))
            ],
            "packages": [
                (p.code, p.active)
                for p in await session.scalars(select(CoursePackage).order_by(CoursePackage.code))
            ],
            "questions": [
                (q.code, q.answer, q.active)
                for q in await session.scalars(select(Question).order_by(Question.code))
            ],
        }


def edit(path: Path, change: object) -> Path:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(raw)  # type: ignore[operator]
    target = path.with_name("edited.yml")
    target.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return target


async def test_load_catalog_command_is_idempotent(backend: Backend, tmp_path: Path) -> None:
    path = write_catalog(tmp_path / "catalog")
    first = await run_cli(backend, "admin", "load-catalog", str(path))
    assert first.returncode == 0, first.stderr
    assert "新增42" in first.stdout
    loaded = await snapshot(backend)
    assert len(loaded["courses"]) == 15 and len(loaded["packages"]) == 9 and len(loaded["questions"]) == 18
    second = await run_cli(backend, "admin", "load-catalog", str(path))
    assert "新增0，更新0，未变42，停用0" in second.stdout
    assert await snapshot(backend) == loaded
    assert (Path(backend.settings.data_dir) / "learning" / "media" / "TY-01.webm").is_file()


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda raw: raw["packages"][5].update(positions=["机械工程师"]), "不认识的岗位“机械工程师”"),
        (lambda raw: raw["packages"][5]["courses"].remove("ZY-02"), "专业课只有16学时，每年至少要22学时"),
        (lambda raw: raw["courses"][0].update(media="missing.webm"), "找不到视频文件 missing.webm"),
        (lambda raw: raw["courses"][1].update(kind="选修"), "kind 应是“通用”或“专业”"),
        (lambda raw: raw["courses"][2].update(duration=-3), "duration 应是视频的整秒数"),
        (lambda raw: raw["packages"][0]["courses"].append("NOPE"), "没有编号为 NOPE 的课程"),
        (lambda raw: raw["packages"][0]["courses"].append("ZY-JX"), "课程 ZY-JX 不适用于课程包的全部岗位"),
        (lambda raw: raw.update(question_bank="nowhere.yml"), "找不到文件"),
    ],
)
async def test_bad_catalog_changes_nothing(
    backend: Backend, tmp_path: Path, change: object, problem: str
) -> None:
    path = write_catalog(tmp_path / "catalog")
    async with backend.transaction() as session:
        await apply_catalog(
            session, read_catalog(path, backend.settings), backend.settings, now=backend.now()
        )
    before = await snapshot(backend)
    with pytest.raises(CatalogError) as caught:
        read_catalog(edit(path, change), backend.settings)
    assert any(problem in line for line in caught.value.problems), caught.value.problems
    assert await snapshot(backend) == before


async def test_bad_question_bank_and_small_bank_are_refused(backend: Backend, tmp_path: Path) -> None:
    path = write_catalog(tmp_path / "catalog")
    bank = path.with_name("questions.yml")
    raw = yaml.safe_load(bank.read_text(encoding="utf-8"))
    raw["banks"][0]["questions"][0]["answer"] = "E"
    bank.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        read_catalog(path, backend.settings)
    assert any("TY-Q01" in line and "answer" in line for line in caught.value.problems)

    raw["banks"][0]["questions"][0]["answer"] = "A"
    raw["banks"][0]["questions"] = raw["banks"][0]["questions"][:3]
    bank.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        read_catalog(path, backend.settings)
    assert any("岗位“安全员”的题库只有5题" in line for line in caught.value.problems), caught.value.problems


async def test_courses_left_out_are_retired_not_deleted(backend: Backend, tmp_path: Path) -> None:
    path = write_catalog(tmp_path / "catalog")
    async with backend.transaction() as session:
        await apply_catalog(
            session, read_catalog(path, backend.settings), backend.settings, now=backend.now()
        )

    def drop_skilled(raw: dict) -> None:
        raw["packages"] = [p for p in raw["packages"] if p["code"] != "PKG-JN"]
        raw["courses"] = [c for c in raw["courses"] if not c["code"].startswith("JN-")]

    async with backend.transaction() as session:
        summary = await apply_catalog(
            session,
            read_catalog(edit(path, drop_skilled), backend.settings),
            backend.settings,
            now=backend.now(),
        )
    assert summary.retired == 4
    state = await snapshot(backend)
    assert ("PKG-JN", False) in state["packages"]
    assert [c for c in state["courses"] if c[0].startswith("JN-") and c[3]] == []

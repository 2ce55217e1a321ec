"""`jianpei photo check FILE [--fix OUT] [--json]`: what it prints and how it exits."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app
from services.photos import check_photo
from tests.photos.synth import ID_BLUE, cat, encode, id_photo_jpeg, portrait

runner = CliRunner()


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_good_photo_passes_with_exit_0(tmp_path: Path) -> None:
    result = runner.invoke(app, ["photo", "check", str(write(tmp_path, "me.jpg", id_photo_jpeg()))])
    assert result.exit_code == 0, result.output
    assert "照片合格" in result.output
    assert "美颜" in result.output  # what cannot be checked is said, not pretended


def test_a_bad_photo_lists_its_problems_with_exit_1(tmp_path: Path) -> None:
    path = write(tmp_path, "cat.jpg", encode(cat()))
    result = runner.invoke(app, ["photo", "check", str(path)])
    assert result.exit_code == 1
    assert "[no_face]" in result.output and "没有找到人脸" in result.output


def test_json_answer(tmp_path: Path) -> None:
    path = write(tmp_path, "grey.jpg", encode(portrait(), mode="L"))
    result = runner.invoke(app, ["photo", "check", str(path), "--json"])
    assert result.exit_code == 1
    answer = json.loads(result.output)
    assert answer["ok"] is False and answer["fixed"] is None
    assert answer["problems"] == [
        {"code": "grayscale", "message": "照片是黑白的，要用彩色照片", "fixable": False}
    ]


def test_white_only_applies_the_management_systems_rule(tmp_path: Path) -> None:
    path = write(tmp_path, "blue.jpg", encode(portrait(background=ID_BLUE)))
    assert runner.invoke(app, ["photo", "check", str(path)]).exit_code == 0
    result = runner.invoke(app, ["photo", "check", str(path), "--white-only"])
    assert result.exit_code == 1
    assert "[background]" in result.output and "白色" in result.output


def test_fix_writes_a_photo_that_passes(tmp_path: Path) -> None:
    path = write(tmp_path, "phone.png", encode(portrait(900, 1200, face_height=0.25, face_top=0.3), "PNG"))
    out = tmp_path / "fixed.jpg"
    result = runner.invoke(app, ["photo", "check", str(path), "--fix", str(out), "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["ok"] is True
    assert {p["code"] for p in answer["problems"]} >= {"file_size", "aspect"}
    assert all(p["fixable"] for p in answer["problems"])
    assert answer["fixed"] == {"path": str(out), "bytes": out.stat().st_size, "width": 295, "height": 413}
    assert check_photo(out.read_bytes()).ok


def test_fix_keeps_a_passing_photo_as_it_is(tmp_path: Path) -> None:
    original = id_photo_jpeg()
    out = tmp_path / "same.jpg"
    result = runner.invoke(
        app, ["photo", "check", str(write(tmp_path, "me.jpg", original)), "--fix", str(out)]
    )
    assert result.exit_code == 0
    assert out.read_bytes() == original


def test_fix_writes_nothing_when_a_new_photo_is_needed(tmp_path: Path) -> None:
    out = tmp_path / "fixed.jpg"
    result = runner.invoke(
        app, ["photo", "check", str(write(tmp_path, "cat.jpg", encode(cat()))), "--fix", str(out)]
    )
    assert result.exit_code == 1
    assert "重拍" in result.output
    assert not out.exists()


def test_a_broken_file_is_a_photo_problem_not_a_crash(tmp_path: Path) -> None:
    result = runner.invoke(app, ["photo", "check", str(write(tmp_path, "empty.jpg", b"")), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.output)["problems"][0]["code"] == "unreadable"


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    photo = str(write(tmp_path, "me.jpg", id_photo_jpeg()))
    assert runner.invoke(app, ["photo", "check", str(tmp_path / "missing.jpg")]).exit_code == 2
    assert runner.invoke(app, ["photo", "check"]).exit_code == 2
    assert runner.invoke(app, ["photo", "check", photo, "--bogus"]).exit_code == 2
    assert (
        runner.invoke(app, ["photo", "check", photo, "--fix", str(tmp_path / "no" / "out.jpg")]).exit_code
        == 2
    )
    assert runner.invoke(app, ["photo", "check", str(tmp_path)]).exit_code == 2

"""The operator's command line, run as a real process against the test databases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy import select

from services.context import Backend
from storage.models import ChatBinding, RegistryAccount
from storage.models.registry import AccountReset
from tests.people import make_id_number, make_phone
from tests.registry.signup import register_registry

HEADER = "name,id_number,certificate_number,position,category,status,remark,issued_on\n"


def jianpei(backend: Backend, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "JIANPEI_DATABASE_URL": backend.engine.url.render_as_string(hide_password=False),
        "JIANPEI_DATA_DIR": str(backend.settings.data_dir),
        "JIANPEI_ENV": "test",
    }
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_import_certificates_command(backend: Backend, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text(
        HEADER + f"古林前,{make_id_number()},221175,机械员,专业人员,非正常,未按要求完成继续教育,2019-06-18\n"
    )
    done = jianpei(backend, "admin", "import-certificates", str(good))
    assert done.returncode == 0, done.stderr
    assert "新增1" in done.stdout

    bad = tmp_path / "bad.csv"
    bad.write_text(
        HEADER
        + f"白山松,{make_id_number()},220813,钢筋工,技能人员,正常,,2018-11-09\n"
        + f"查干湖,{make_id_number()},22,钢筋工,技能人员,正常,,2018-11-09\n"
    )
    refused = jianpei(backend, "admin", "import-certificates", str(bad))
    assert refused.returncode == 1
    assert "第3行" in refused.stderr and "证书编号" in refused.stderr
    assert "什么都没有导入" in refused.stderr

    skipped = jianpei(backend, "admin", "import-certificates", "--skip-invalid", str(bad))
    assert skipped.returncode == 1, "errors still make the exit code non-zero"
    assert "新增1" in skipped.stdout

    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(good.read_text().encode("gbk"))
    assert "UTF-8" in jianpei(backend, "admin", "import-certificates", str(gbk)).stderr


async def test_demo_data_and_sms_outbox(backend: Backend, client: httpx.AsyncClient) -> None:
    loaded = jianpei(backend, "admin", "demo-data")
    assert loaded.returncode == 0, loaded.stderr
    assert jianpei(backend, "admin", "demo-data").returncode == 0

    login = await client.post(
        "/api/registry/sessions", json={"login": "220102197805120319", "password": "13900000001"}
    )
    token = login.json()["token"]
    certificates = (
        await client.get("/api/registry/me/certificates", headers={"Authorization": f"Bearer {token}"})
    ).json()
    assert {
        "name": "古林前",
        "certificate_number": "221175",
        "position": "机械员",
        "status": "非正常",
        "remark": "未按要求完成继续教育",
    }.items() <= certificates[0].items()

    await client.post("/api/sms/codes", json={"phone": "13900000001", "purpose": "bind_chat"})
    outbox = jianpei(backend, "admin", "sms-outbox", "--phone", "139 0000 0001", "--json")
    assert outbox.returncode == 0, outbox.stderr
    messages = json.loads(outbox.stdout)
    assert len(messages) == 1 and "验证码" in messages[0]["text"]
    assert jianpei(backend, "admin", "sms-outbox", "--phone", "12").returncode == 2


def test_every_command_explains_itself_in_both_languages() -> None:
    for args in (
        ["--help"],
        ["admin", "--help"],
        ["admin", "import-certificates", "--help"],
        ["admin", "reset-account", "--help"],
        ["db", "--help"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, timeout=60, check=True
        )
        assert any("\u4e00" <= ch <= "\u9fff" for ch in done.stdout), args
        assert any(word in done.stdout for word in ("Import", "Operator", "Database", "Start", "Reset")), args


async def test_reset_account_command(backend: Backend, client: httpx.AsyncClient) -> None:
    """Someone took 古林前's account with their own phone; staff reset it from the command line."""
    id_number, theirs = make_id_number(), make_phone()
    made = await register_registry(client, name="古林前", id_number=id_number, phone=theirs)
    assert made.status_code == 201, made.text
    async with backend.transaction() as session:
        person_id = await session.scalar(select(RegistryAccount.person_id))
        assert person_id is not None
        session.add(ChatBinding(sender_id="rest:web-theirs", person_id=person_id, bound_at=backend.now()))

    done = jianpei(
        backend, "admin", "reset-account", "--id-number", id_number, "--reason", "本人持身份证到窗口核实"
    )
    assert done.returncode == 0, done.stderr
    masked = id_number[:6] + "********" + id_number[-4:]
    assert "账号已重置" in done.stdout and masked in done.stdout and "1个聊天绑定" in done.stdout
    assert "account_reset" in done.stdout + done.stderr, "the reset is logged"
    assert id_number not in done.stdout + done.stderr and theirs not in done.stdout + done.stderr
    async with backend.sessions() as session:
        audit = (await session.scalars(select(AccountReset))).one()
        assert audit.via == "cli" and audit.operator and audit.reason == "本人持身份证到窗口核实"
        assert audit.id_number_masked == masked and audit.chats_unbound == 1
        assert await session.scalar(select(RegistryAccount.id)) is None

    mine = make_phone()
    again = await register_registry(client, name="古林前", id_number=id_number, phone=mine)
    assert again.status_code == 201, again.text

    unknown = jianpei(backend, "admin", "reset-account", "--id-number", make_id_number(), "--reason", "核实")
    assert unknown.returncode == 1 and "没有这个身份证号" in unknown.stderr

"""`jianpei admin`: the operator's commands (certificate upload, SMS outbox, demo data, account reset)."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bot.cli import learning as learning_commands
from bot.cli.broadcast import broadcast_app
from bot.cli.common import run_with_backend
from bot.cli.documents import revoke_certificate
from bot.cli.staff import staff_app

if TYPE_CHECKING:
    from services.context import Backend
    from services.registry.certificate_import import ImportReport
    from storage.models.registry import AccountReset

admin_app = typer.Typer(help="管理员命令 / Operator commands.", no_args_is_help=True)
admin_app.add_typer(broadcast_app, name="broadcast")
admin_app.add_typer(staff_app, name="staff")
admin_app.command(
    "revoke-certificate",
    help="撤销证书的电子证书（核验页显示已撤销） / Revoke a certificate's e-certificate.",
)(revoke_certificate)


@admin_app.command(
    "import-certificates",
    help="导入主管部门上传的证书 CSV（UTF-8） / Import the authority's certificate CSV (UTF-8).",
)
def import_certificates_command(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV 文件 / the CSV file"),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="跳过有错的行，导入其余行 / import the valid rows, skip the rest"
    ),
) -> None:
    from services.registry.certificate_import import UnreadableFile, import_certificates

    data = file.read_bytes()

    async def work(backend: Backend) -> ImportReport:
        async with backend.transaction() as session:
            return await import_certificates(
                session, data, today=backend.now().date(), skip_invalid=skip_invalid
            )

    try:
        report = run_with_backend(work)
    except UnreadableFile as exc:
        typer.echo(f"无法导入 / not imported: {exc}", err=True)
        raise typer.Exit(1) from None
    for error in report.errors:
        typer.echo(str(error), err=True)
    if report.result is None:
        typer.echo(f"有{len(report.errors)}行出错，什么都没有导入 / nothing imported", err=True)
        raise typer.Exit(1)
    result = report.result
    typer.echo(
        f"导入完成：新增{result.created}，更新{result.updated}，未变{result.unchanged}，跳过{len(report.errors)}"
    )
    if report.errors:
        raise typer.Exit(1)


@admin_app.command("sms-outbox", help="查看短信发件箱（最新在前） / Show the SMS outbox, newest first.")
def sms_outbox(
    phone: str | None = typer.Option(None, "--phone", help="只看这个手机号 / only this phone"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON / print JSON"),
    limit: int = typer.Option(50, help="最多几条 / at most this many"),
) -> None:
    from rules.identity import InvalidIdentity, normalize_phone
    from services.sms.outbox import recent_messages

    try:
        wanted = normalize_phone(phone) if phone else None
    except InvalidIdentity as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None

    async def work(backend: Backend) -> list[dict[str, str]]:
        async with backend.sessions() as session:
            messages = await recent_messages(session, phone=wanted, limit=limit)
        return [
            {
                "created_at": message.created_at.isoformat(),
                "phone": message.phone,
                "kind": message.kind,
                "status": message.status,
                "text": message.text,
            }
            for message in messages
        ]

    rows = run_with_backend(work)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        typer.echo("发件箱是空的 / the outbox is empty")
    for row in rows:
        typer.echo(f"{row['created_at']}  {row['phone']}  {row['text']}")


@admin_app.command(
    "demo-data", help="载入演示数据（可重复执行） / Load the fictional demo cohort (idempotent)."
)
def demo_data() -> None:
    from services.registry.demo import load_demo_data

    loaded = run_with_backend(load_demo_data)
    result = loaded.certificates
    typer.echo(
        f"演示数据已载入：证书新增{result.created}、更新{result.updated}、未变{result.unchanged}；"
        f"新开账号{loaded.accounts_created}"
    )


def _os_user() -> str:
    """Who runs the command, for the record; a container may have no name for its user."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


@admin_app.command(
    "reset-account",
    help=(
        "核实本人身份后重置账号：删除两个系统的登录、手机号、照片和聊天绑定，本人可重新注册；"
        "证书和学习记录保留 / Reset a pre-empted account after checking identity: logins, phones, "
        "photo and chat bindings go, certificates and learning records stay."
    ),
)
def reset_account_command(
    id_number: str = typer.Option(..., "--id-number", help="本人身份证号 / the person's ID number"),
    reason: str = typer.Option(
        ...,
        "--reason",
        help="原因和核实身份的方式（会记录下来） / why, and how identity was checked (kept on record)",
    ),
    operator: str | None = typer.Option(
        None, "--operator", help="办理人（默认当前系统用户） / who does it (default: this OS user)"
    ),
) -> None:
    from services.errors import AppError
    from services.registry.reset import reset_account

    async def work(backend: Backend) -> AccountReset:
        return await reset_account(
            backend, id_number=id_number, reason=reason, operator=operator or _os_user(), via="cli"
        )

    try:
        record = run_with_backend(work)
    except AppError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(1) from None
    gone = [
        f"管理系统账号（{record.registry_phone_masked}）" if record.registry_phone_masked else "",
        f"继续教育平台账号（{record.learning_phone_masked}）" if record.learning_phone_masked else "",
        "照片" if record.photo_removed else "",
        f"{record.chats_unbound}个聊天绑定" if record.chats_unbound else "",
    ]
    typer.echo(
        f"账号已重置（记录 {record.id}，{record.id_number_masked}）：已删除"
        + "、".join(item for item in gone if item)
        + "。证书和学习记录保留，本人可以用自己的手机号重新注册。"
    )


learning_commands.register(admin_app)

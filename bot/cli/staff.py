"""`jianpei admin staff`: customer-service accounts of the staff console (/staff)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from bot.cli.common import run_with_backend

if TYPE_CHECKING:
    from bot.handoff.accounts import Staff
    from services.context import Backend

staff_app = typer.Typer(help="客服账号 / Staff console accounts.", no_args_is_help=True)


@staff_app.command("add", help="新建客服账号（密码从提示或标准输入读取） / Add a staff account.")
def add_staff(
    login: str = typer.Argument(..., help="登录名 / login name"),
    name: str = typer.Option(..., "--name", help="客服的名字（学员看不到） / display name"),
    role: str = typer.Option(
        "agent", "--role", help="agent（客服）或 supervisor（主管） / agent or supervisor"
    ),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="从标准输入读密码（脚本用） / read the password from stdin"
    ),
) -> None:
    from bot.handoff.accounts import StaffAccounts

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("密码 / password", hide_input=True, confirmation_prompt=True)

    async def work(backend: Backend) -> Staff:
        return await StaffAccounts(backend.engine).add(
            login=login, name=name, role=role, password=password, now=backend.now()
        )

    try:
        staff = run_with_backend(work)
    except ValueError as exc:
        typer.echo(f"没有新建 / not added: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"已新建客服账号 {staff.login}（{staff.name}，{staff.role}） / staff account added")

"""`jianpei db`: schema migrations."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from bot.cli.common import run_with_backend

if TYPE_CHECKING:
    from services.context import Backend

db_app = typer.Typer(help="数据库 / Database schema.", no_args_is_help=True)


@db_app.command(help="把数据库升级到最新结构 / Migrate the database to the newest schema.")
def upgrade() -> None:
    from storage import migrate

    async def work(backend: Backend) -> str | None:
        await migrate.upgrade(backend.engine)
        return await migrate.current_revision(backend.engine)

    typer.echo(f"数据库已是最新结构 / schema at revision {run_with_backend(work)}")


@db_app.command(help="根据模型变化生成迁移（开发用） / Write a migration from model changes (development).")
def revision(message: str = typer.Argument(..., help="迁移说明 / what the migration does")) -> None:
    from storage import migrate

    async def work(backend: Backend) -> None:
        await migrate.upgrade(backend.engine)
        await migrate.autogenerate(backend.engine, message)

    run_with_backend(work)

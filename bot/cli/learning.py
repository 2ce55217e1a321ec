"""`jianpei admin load-catalog` and `clear-hours`: the operator's side of the learning platform."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bot.cli.common import run_with_backend

if TYPE_CHECKING:
    from services.context import Backend
    from services.learning.catalog import LoadSummary
    from storage.models import HoursClearance


def load_catalog(
    file: Path | None = typer.Argument(
        None, dir_okay=False, help="课程目录 YAML（默认演示目录） / catalog YAML (default: demo)"
    ),
) -> None:
    from services.learning.catalog import DEMO_CATALOG, CatalogError, apply_catalog, read_catalog

    file = file or DEMO_CATALOG

    async def work(backend: Backend) -> LoadSummary:
        catalog = read_catalog(file, backend.settings)
        async with backend.transaction() as session:
            return await apply_catalog(session, catalog, backend.settings, now=backend.now())

    try:
        summary = run_with_backend(work)
    except CatalogError as exc:
        for problem in exc.problems:
            typer.echo(problem, err=True)
        typer.echo(f"有{len(exc.problems)}处问题，什么都没有载入 / nothing loaded", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"课程目录已载入：{summary.line()}")


def clear_hours_command(
    certificate: str = typer.Option(..., "--certificate", help="证书编号 / certificate number"),
    year: int = typer.Option(..., "--year", help="培训年度 / cycle year"),
    reason: str = typer.Option(..., "--reason", help="清零原因（会记录下来） / why (kept on record)"),
) -> None:
    from services.errors import AppError
    from services.learning.completion import clear_hours

    async def work(backend: Backend) -> HoursClearance:
        return await clear_hours(backend, certificate_number=certificate, cycle_year=year, reason=reason)

    try:
        clearance = run_with_backend(work)
    except AppError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(1) from None
    removed = "，已撤回管理系统里的学时记录" if clearance.hours_record_removed else ""
    typer.echo(f"学时已清零：清除已学 {clearance.cleared_seconds:.0f} 秒{removed}。原因：{clearance.reason}")


def register(admin: typer.Typer) -> None:
    """Add the learning commands to `jianpei admin`."""
    admin.command(
        "load-catalog",
        help="载入继续教育课程目录（校验后整体载入，可重复执行） / Load the course catalog (idempotent).",
    )(load_catalog)
    admin.command(
        "clear-hours",
        help="学时清零：清除一个课程订单的学习进度 / Clear the hours of an enrolment (学时清零).",
    )(clear_hours_command)

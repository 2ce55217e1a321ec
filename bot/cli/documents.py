"""`jianpei admin revoke-certificate`: the operator revokes a certificate's e-certificate."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from bot.cli.common import run_with_backend

if TYPE_CHECKING:
    from services.context import Backend


def revoke_certificate(
    certificate_number: str = typer.Argument(..., help="证书编号 / certificate number"),
    reason: str = typer.Option(..., "--reason", help="撤销原因 / why it is revoked"),
) -> None:
    """Every version of the certificate's e-certificate shows 已撤销 on its verification page."""
    from services.documents.ecerts import revoke
    from services.errors import AppError

    async def work(backend: Backend) -> list[int]:
        return [
            ecert.version
            for ecert in await revoke(backend, certificate_number=certificate_number, reason=reason)
        ]

    try:
        versions = run_with_backend(work)
    except AppError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(1) from None
    listed = "、".join(f"第{version}版" for version in versions)
    typer.echo(f"已撤销证书 {certificate_number} 的电子证书（{listed}） / revoked")

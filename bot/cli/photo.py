"""`jianpei photo check FILE [--fix OUT] [--json]`: check an ID photo and repair what can be repaired.

Exit status: 0 when the photo (or the repaired file) passes, 1 when it does not, 2 on usage errors.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from services.photos import FixOutcome, Report

photo_app = typer.Typer(help="照片校验与自动修正 / ID photo check and repair.", no_args_is_help=True)


@photo_app.command(
    help="检查证件照是否符合两个系统的要求，可自动修正 / Check an ID photo against both systems' rules; "
    "optionally write a repaired copy."
)
def check(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, readable=True, help="照片文件 / the photo file"
    ),
    fix: Path | None = typer.Option(
        None, "--fix", dir_okay=False, help="把修正后的照片写到这里 / write the repaired photo here"
    ),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON / print JSON"),
    white_only: bool = typer.Option(
        False, "--white-only", help="只接受白底（管理系统的要求） / accept a white background only"
    ),
) -> None:
    # The detector is loaded here, not at the top, so other commands start without it.
    from services.photos import BOTH_BACKGROUNDS, WHITE_ONLY, check_photo, fix_photo
    from services.photos.loading import MAX_FILE_BYTES

    if fix is not None and not fix.parent.is_dir():
        raise typer.BadParameter(f"目录不存在 / no such folder: {fix.parent}", param_hint="--fix")
    with file.open("rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    backgrounds = WHITE_ONLY if white_only else BOTH_BACKGROUNDS
    if fix is None:
        report = check_photo(data, backgrounds=backgrounds)
        _print(report, None, None, as_json)
        raise typer.Exit(0 if report.ok else 1)
    outcome = fix_photo(data, backgrounds=backgrounds)
    if outcome.fixed is not None:
        fix.write_bytes(outcome.fixed.data)
    _print(outcome.original, outcome, fix, as_json)
    raise typer.Exit(0 if outcome.fixed is not None else 1)


def _print(report: Report, outcome: FixOutcome | None, out: Path | None, as_json: bool) -> None:
    from services.photos import GUIDANCE

    fixed = outcome.fixed if outcome else None
    if as_json:
        document = {
            "ok": fixed is not None if outcome else report.ok,
            "problems": [problem.as_dict() for problem in report.problems],
            "fixed": {
                "path": str(out),
                "bytes": len(fixed.data),
                "width": fixed.width,
                "height": fixed.height,
            }
            if fixed and out
            else None,
        }
        typer.echo(json.dumps(document, ensure_ascii=False))
        return
    if report.ok:
        typer.echo("照片合格。")
    else:
        typer.echo(f"照片有 {len(report.problems)} 个问题：")
        for problem in report.problems:
            note = "（可自动修正）" if problem.fixable else ""
            typer.echo(f"  - [{problem.code}] {problem.message}{note}")
    if outcome is not None and out is not None:
        if fixed is None:
            typer.echo("没有生成修正后的照片：有的问题只能重拍解决，请按上面的提示重拍。")
        elif fixed.changed:
            typer.echo(
                f"已修正并保存到 {out}（{len(fixed.data):,} 字节，{fixed.width}x{fixed.height}），"
                "修正后的照片合格。"
            )
        else:
            typer.echo(f"原照片已合格，原样保存到 {out}。")
    typer.echo(f"提示：{GUIDANCE}")

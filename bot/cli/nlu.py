"""`jianpei nlu`: train the embedded model, parse lines from stdin, score it like `rasa test nlu`."""

from __future__ import annotations

import asyncio
import io
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bot.settings import AssistantSettings
from services.settings import get_settings

if TYPE_CHECKING:
    from nlu.evaluation import Evaluation

# The engine (numpy, jieba, scikit-learn) is imported inside the commands, so other commands start fast.
nlu_app = typer.Typer(help="自然语言理解 / Natural-language understanding.", no_args_is_help=True)

HELD_OUT = Path(__file__).resolve().parents[2] / "tests" / "nlu" / "heldout_nlu.yml"


@nlu_app.command("train", help="训练并保存带版本号的模型 / Train and write the versioned model.")
def train_command() -> None:
    from nlu.engine import train

    run = train(get_settings().data_dir / "models")
    typer.echo(
        f"模型已训练 / model trained: version {run.interpreter.version}, {run.examples} examples, "
        f"{run.seconds:.1f} s -> {run.path}"
    )


@nlu_app.command(
    "parse",
    help="逐行读取标准输入，每行输出一个 JSON（Rasa /model/parse 格式） / "
    "Read stdin lines, print one /model/parse JSON object per line.",
)
def parse_command() -> None:
    import nlu

    models = get_settings().data_dir / "models"
    interpreter = nlu.load_interpreter(models, AssistantSettings().rasa_nlu_url)
    stdin = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")

    async def run() -> None:
        for line in stdin:
            text = line.rstrip("\r\n")
            if text.strip():
                answer = await interpreter.parse(text)
                sys.stdout.write(json.dumps(answer, ensure_ascii=False) + "\n")
                sys.stdout.flush()

    sys.stdout.reconfigure(encoding="utf-8")  # type: ignore[union-attr]
    asyncio.run(run())


def _print_figures(label: str, evaluation: Evaluation) -> None:
    typer.echo(f"{label}: {len(evaluation.truth)} examples")
    typer.echo(f"  accuracy: {evaluation.accuracy:.4f}")
    typer.echo(f"  macro F1: {evaluation.macro_f1:.4f}")


@nlu_app.command(
    "test",
    help="用留出测试集评估（或交叉验证），写 intent_report.json / "
    "Score on the held-out file (or cross-validate); writes intent_report.json.",
)
def test_command(
    cross_validation: int = typer.Option(
        0,
        "--cross-validation",
        min=0,
        help="k 折交叉验证（训练数据） / k-fold cross-validation on the training data",
    ),
    file: Path = typer.Option(HELD_OUT, "--file", exists=True, help="测试数据 / test data (Rasa NLU YAML)"),
    out: Path | None = typer.Option(
        None, "--out", help="报告目录 / report directory (default DATA_DIR/results)"
    ),
) -> None:
    import nlu
    from nlu.evaluation import cross_validate, evaluate, write_reports
    from nlu.pipeline import DEFAULT_CONFIG, DEFAULT_DATA, load_pipeline
    from nlu.trainingdata import load_training_data

    out_dir = out or get_settings().data_dir / "results"
    if cross_validation:
        if cross_validation < 2:
            raise typer.BadParameter(
                "交叉验证至少要分2折 / at least 2 folds", param_hint="--cross-validation"
            )
        pipeline = load_pipeline(DEFAULT_CONFIG)
        data = load_training_data([DEFAULT_DATA])
        result = cross_validate(data, pipeline, cross_validation)
        typer.echo(f"{cross_validation}-fold cross-validation, {len(data.examples)} examples (test folds):")
        for name, (mean, deviation) in result.summary().items():
            typer.echo(f"  {name}: {mean:.4f} ± {deviation:.4f}")
        evaluation = result.pooled
        _print_figures("all folds pooled", evaluation)
    else:
        interpreter = nlu.open_model(get_settings().data_dir / "models")
        evaluation = evaluate(interpreter, load_training_data([file]).examples)
        _print_figures(f"{file.name} (model {interpreter.version})", evaluation)
    for path in write_reports(evaluation, out_dir):
        typer.echo(f"  -> {path}")

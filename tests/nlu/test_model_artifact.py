"""The trained model is a versioned file: loading it never retrains, and the version is reported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

import nlu
from bot.cli import app as cli_app
from nlu.engine import EmbeddedInterpreter
from nlu.rasa_server import RasaServerError, RasaServerInterpreter
from services.settings import get_settings
from tests.nlu.conftest import Trained

ROOT = Path(__file__).resolve().parents[2]


def artifact(data_dir: Path) -> Path:
    return data_dir / "models" / f"nlu-{nlu.model_version()}.npz"


def test_first_use_wrote_the_versioned_model_and_reloading_does_not_retrain(trained: Trained) -> None:
    path = artifact(trained.data_dir)
    assert path.is_file()
    before = path.stat()
    again = nlu.open_model(trained.data_dir / "models")
    assert again.trained_at == trained.interpreter.trained_at
    assert path.stat().st_mtime_ns == before.st_mtime_ns
    assert again.version == trained.interpreter.version == nlu.model_version()
    assert again.parse_sync("我要报名") == trained.interpreter.parse_sync("我要报名")
    assert nlu.loaded_model_version() == trained.interpreter.version


def run_cli(args: list[str], data_dir: Path, stdin: str = "") -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "JIANPEI_DATA_DIR": str(data_dir), "JIANPEI_ENV": "test"}
    env.pop("JIANPEI_RASA_NLU_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "nlu", *args],
        input=stdin.encode("utf-8"),
        capture_output=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )


def test_cli_parse_reads_utf8_lines_and_prints_json_lines(trained: Trained) -> None:
    before = artifact(trained.data_dir).stat().st_mtime_ns
    done = run_cli(["parse"], trained.data_dir, "密码忘了咋整\n\n我手机139 0431 5566\n")
    assert done.returncode == 0, done.stderr.decode()
    lines = done.stdout.decode("utf-8").splitlines()
    answers = [json.loads(line) for line in lines]
    assert [a["text"] for a in answers] == ["密码忘了咋整", "我手机139 0431 5566"]
    assert answers[0]["intent"]["name"] == "account_help"
    assert answers[1]["entities"][0]["value"] == "13904315566"
    assert (answers[1]["entities"][0]["start"], answers[1]["entities"][0]["end"]) == (3, 16)
    assert artifact(trained.data_dir).stat().st_mtime_ns == before


def run_cli_in_process(args: list[str], data_dir: Path) -> str:
    """`jianpei nlu ARGS` through the real typer app, in this process; returns what it printed."""
    get_settings.cache_clear()
    try:
        env = {"JIANPEI_DATA_DIR": str(data_dir), "JIANPEI_ENV": "test", "JIANPEI_RASA_NLU_URL": None}
        result = CliRunner().invoke(cli_app, ["nlu", *args], env=env)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    return result.stdout


def printed_figures(output: str) -> dict[str, str]:
    return dict(
        line.strip().split(": ", 1) for line in output.splitlines() if line.startswith("  ") and ": " in line
    )


def test_cli_test_writes_rasa_intent_report(trained: Trained, tmp_path: Path) -> None:
    figures = printed_figures(run_cli_in_process(["test", "--out", str(tmp_path)], trained.data_dir))
    assert float(figures["accuracy"]) >= 0.95
    assert float(figures["macro F1"]) >= 0.95
    report = json.loads((tmp_path / "intent_report.json").read_text(encoding="utf-8"))
    for scores in (report["register"], report["inform"]):
        assert set(scores) == {"precision", "recall", "f1-score", "support", "confused_with"}
    assert report["accuracy"] == pytest.approx(float(figures["accuracy"]), abs=1e-4)
    assert (tmp_path / "intent_errors.json").is_file()


def test_cli_cross_validation(trained: Trained, tmp_path: Path) -> None:
    output = run_cli_in_process(["test", "--cross-validation", "2", "--out", str(tmp_path)], trained.data_dir)
    assert "2-fold cross-validation" in output
    assert float(printed_figures(output)["accuracy"]) > 0.7
    report = json.loads((tmp_path / "intent_report.json").read_text(encoding="utf-8"))
    assert sum(report[intent]["support"] for intent in ("greet", "goodbye", "inform")) >= 120


async def test_rasa_server_answers_in_the_same_shape() -> None:
    seen: list[dict[str, str]] = []

    def rasa(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/model/parse"
        seen.append(json.loads(request.content))
        return httpx.Response(
            200,
            json={
                "text": "转人工",
                "intent": {"name": "human_handoff", "confidence": 0.98},
                "entities": [],
                "intent_ranking": [{"name": "human_handoff", "confidence": 0.98}],
                "response_selector": {},
            },
        )

    interpreter = RasaServerInterpreter("http://rasa.test:5005/", transport=httpx.MockTransport(rasa))
    answer = await interpreter.parse("转人工")
    await interpreter.aclose()
    assert seen == [{"text": "转人工"}]
    assert answer == {
        "text": "转人工",
        "intent": {"name": "human_handoff", "confidence": 0.98},
        "entities": [],
        "intent_ranking": [{"name": "human_handoff", "confidence": 0.98}],
    }


async def test_rasa_server_down_is_a_clear_error() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, text="loading model")

    interpreter = RasaServerInterpreter("http://rasa.test:5005", transport=httpx.MockTransport(down))
    with pytest.raises(RasaServerError, match=r"rasa\.test"):
        await interpreter.parse("你好")
    await interpreter.aclose()


def test_rasa_url_setting_switches_to_the_server(tmp_path: Path) -> None:
    interpreter = nlu.load_interpreter(tmp_path / "models", "http://127.0.0.1:9/")
    assert isinstance(interpreter, RasaServerInterpreter)
    assert not isinstance(interpreter, EmbeddedInterpreter)
    assert interpreter.url == "http://127.0.0.1:9"
    assert not (tmp_path / "models").exists()

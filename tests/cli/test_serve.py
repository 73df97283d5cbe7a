"""``related-reading serve``: bad counts are usage errors; the command gunicorn is started with."""

from __future__ import annotations

import sys

import pytest
from gunicorn.config import Config

from recommender import exits
from recommender.cli import main as cli
from recommender.cli.serve import APP, CONFIG, gunicorn_command


@pytest.mark.parametrize("flags", [["--workers", "0"], ["--threads", "0"], ["--workers", "-2"]])
def test_workers_and_threads_below_one_are_usage_errors(
        flags: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["serve", *flags]) == exits.USAGE
    assert "--workers and --threads must be at least 1" in capsys.readouterr().err


def test_the_command_is_gunicorn_with_the_web_config_and_app_named_by_strings() -> None:
    argv = gunicorn_command("127.0.0.1:9999", 3, 5)
    assert argv[:3] == [sys.executable, "-m", "gunicorn"]
    parsed = Config().parser().parse_args(argv[3:])  # gunicorn's own command-line parser
    assert parsed.config == CONFIG == "python:web.gunicorn_conf"
    assert (parsed.bind, parsed.workers, parsed.threads) == (["127.0.0.1:9999"], 3, 5)
    assert parsed.accesslog is None
    assert parsed.args == [APP] == ["web:create_app()"]


def test_access_log_and_another_app() -> None:
    argv = gunicorn_command("127.0.0.1:1", 1, 1, access_log=True, app="bench:make()")
    parsed = Config().parser().parse_args(argv[3:])
    assert parsed.accesslog == "-"
    assert parsed.args == ["bench:make()"]

"""`nextcall simulate`: the report's lines and the chart, on a short day."""

from pathlib import Path

import pytest

from services.cli import main
from shared.infra.settings import Settings


class TestSimulate:
    def test_reports_each_pacer_and_writes_the_chart(
        self, cli_settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        chart = tmp_path / "day.png"
        args = ["simulate", "--agents", "10", "--hours", "0.5", "--answer-rates", "0.3"]
        pacers = "ours,ADAPT_TAPERED,ADAPT_HARD_LIMIT+ready@4"
        assert main([*args, "--pacers", pacers, "--chart", str(chart)]) == 0
        out = capsys.readouterr().out
        lines = [line.split()[0] for line in out.splitlines() if "occupancy" in line]
        assert lines == pacers.split(",")
        assert "worst 15 min" in out and "calls/agent-hour" in out and "wait" in out
        assert chart.read_bytes().startswith(b"\x89PNG")

    def test_an_unknown_pacer_is_refused(
        self, cli_settings: Settings, capsys: pytest.CaptureFixture[str]
    ) -> None:
        with pytest.raises(SystemExit) as exit_:
            main(["simulate", "--pacers", "ours,magic"])
        assert exit_.value.code == 2
        assert "unknown pacer 'magic'" in capsys.readouterr().err

    def test_a_cap_of_one_or_more_is_refused(
        self, cli_settings: Settings, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["simulate", "--cap", "3"]) != 0
        assert "--cap" in capsys.readouterr().err

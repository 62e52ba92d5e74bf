"""The README's reference parts agree with the code: every setting, the commands' options."""

import re
from pathlib import Path

from shared.infra.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _section(title: str) -> str:
    start = README.index(f"## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def test_the_configuration_table_lists_every_setting() -> None:
    documented = set(re.findall(r"`NEXTCALL_([A-Z0-9_]+)`", _section("Configuration")))

    assert documented == {name.upper() for name in Settings.model_fields}


def test_the_commands_table_shows_ups_port_and_the_import() -> None:
    commands = _section("Commands")

    assert "`nextcall up [--host H] [--port P] [--simulate]`" in commands
    assert "`nextcall import --assignment ID FILE" in commands


def test_an_attempts_body_is_shown() -> None:
    body = re.search(r"/attempts \\\n.*?-d '(\{.*?\})'", README, re.DOTALL)

    assert body is not None
    assert '"kind": "call_back_later"' in body.group(1) and '"at": ' in body.group(1)

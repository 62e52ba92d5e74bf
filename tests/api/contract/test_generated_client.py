"""A Python client generated from the schema works (issue 14, point 6): openapi-python-client
builds it from the app's own /openapi.json into a temporary directory, and the client, imported
from there, drives one agent's cycle (next, then an outcome) against the real app, in process
through its httpx client."""

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.api.world import World

PACKAGE = "nextcall_client"
CONFIG = {
    "package_name_override": PACKAGE,
    "project_name_override": PACKAGE,
    # No formatting of the generated files: the test imports them, nobody reads them.
    "post_hooks": [],
    # The generator knows no text/csv body (an import's CSV file): it is sent as raw bytes.
    "content_type_overrides": {"text/csv": "application/octet-stream"},
}


def _generate(schema: dict[str, Any], into: Path) -> None:
    (into / "openapi.json").write_text(json.dumps(schema))
    (into / "config.json").write_text(json.dumps(CONFIG))
    generator = Path(sys.executable).parent / "openapi-python-client"
    done = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(into / "openapi.json"),
            "--config",
            str(into / "config.json"),
            "--meta",
            "none",
            "--output-path",
            str(into / PACKAGE),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    # The generator warns about the parts of a schema it cannot turn into code: none here.
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stdout + done.stderr, done.stdout + done.stderr


@pytest.fixture
def generated(app: FastAPI, tmp_path: Path) -> Iterator[ModuleType]:
    _generate(app.openapi(), tmp_path)
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


async def test_a_generated_client_registers_an_outcome_on_the_next_customer(
    generated: ModuleType, world: World, app: FastAPI
) -> None:
    customer = (await world.customers([{"first_name": "Ola"}]))[0]
    next_customer = importlib.import_module(f"{PACKAGE}.api.work.next_customer")
    register_outcome = importlib.import_module(f"{PACKAGE}.api.work.register_outcome")
    models = importlib.import_module(f"{PACKAGE}.models")
    client = generated.AuthenticatedClient(base_url="http://test", token=world.agents[0][1])
    client.set_async_httpx_client(
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://test",
            headers={"Authorization": f"Bearer {world.agents[0][1]}"},
        )
    )

    async with client:
        card = await next_customer.asyncio(
            assignment_id=world.assignment.id, client=client, body=models.NextRequest()
        )
        assert isinstance(card, models.CardOut), card
        assert card.customer.id == customer.id
        assert card.customer.first_name == "Ola"
        written = await register_outcome.asyncio(
            customer_id=card.customer.id,
            client=client,
            body=models.OutcomeRequest(
                lease_id=card.lease.id,
                version=card.membership.version,
                code="not_interested",
                comment="generated client",
            ),
            idempotency_key="generated-client-1",
        )

    assert isinstance(written, models.WriteResult), written
    assert written.membership.state == "not_interested"
    assert written.membership.version == card.membership.version + 1

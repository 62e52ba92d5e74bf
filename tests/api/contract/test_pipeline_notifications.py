"""A new request reaches its manager's live stream whichever API process serves it (issue 17,
point 3): registered on one process, read from the stream the manager holds open on the
other, through Redis. Uses this package's two running API processes."""

import json
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from shared.models import Permission
from tests.api.api_process import ApiProcess
from tests.api.contract.conftest import Callers, bearer
from tests.factories import create_user

READ_TIMEOUT_S = 10.0
JEANNE = {
    "first_name": "Jeanne",
    "last_name": "Martin",
    "phone": "+32 470 55 66 77",
    "language": "fr",
    "role": "private_person",
}


async def _first_event(stream: httpx.Response, wanted: str) -> dict[str, Any]:
    event = None
    async for line in stream.aiter_lines():
        if line.startswith("event:"):
            event = line.removeprefix("event:").strip()
        elif line.startswith("data:") and event == wanted:
            found: dict[str, Any] = json.loads(line.removeprefix("data:"))
            return found
    raise AssertionError(f"the stream ended without a {wanted} event")


class TestPipelineNotifications:
    async def test_the_manager_is_told_on_the_other_process(
        self, apis: list[ApiProcess], callers: Callers, session: AsyncSession
    ) -> None:
        first, second = apis
        manager, manager_token = await create_user(
            session, callers.tenant, name="Ann", permissions=[Permission.pipeline_manage.value]
        )
        _, intake_token = await create_user(
            session, callers.tenant, name="Ivo", permissions=[Permission.pipeline_register.value]
        )
        body = {
            "kind": "stay",
            "caller": "prospect",
            "manager_id": manager.id,
            "prospect": {"new": JEANNE},
        }
        async with httpx.AsyncClient(timeout=READ_TIMEOUT_S) as http:
            events = f"{second.url}/v1/me/events"
            async with http.stream("GET", events, headers=bearer(manager_token)) as stream:
                assert stream.status_code == 200
                registered = await http.post(
                    f"{first.url}/v1/pipeline/requests", json=body, headers=bearer(intake_token)
                )
                assert registered.status_code == 201, registered.text
                told = await _first_event(stream, "request_assigned")

        assert told["request_id"] == registered.json()["id"]
        assert told["manager_id"] == manager.id

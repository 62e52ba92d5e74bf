"""Tasks (issue 17 point 4): "only my tasks" with finished ones hidden, a follow-up task from
a task, overdue tasks visible to the manager, the request's history."""

from datetime import timedelta
from typing import Any

from tests.api.pipeline.conftest import Care

HOUR = timedelta(hours=1)


async def _task(
    care: Care, request_id: int, title: str, who: str = "ann", **body: Any
) -> dict[str, Any]:
    r = await care.post(f"/requests/{request_id}/tasks", {"title": title, **body}, who=who)
    assert r.status_code == 201, r.text
    found: dict[str, Any] = r.json()
    return found


def _titles(page: dict[str, Any]) -> list[str]:
    return [t["title"] for t in page["items"]]


class TestTasks:
    async def test_only_my_tasks_with_done_tasks_hidden_unless_asked_for(self, care: Care) -> None:
        request = await care.register()
        visit = await _task(care, request["id"], "Intake visit", executor_id=care.id("cat"))
        await _task(care, request["id"], "Care plan", executor_id=care.id("cat"))
        await _task(care, request["id"], "Call the GP", executor_id=care.id("bob"))
        assert [e["task_id"] for e in await care.told("cat")] == [visit["id"] + i for i in (0, 1)]

        done = await care.patch(f"/tasks/{visit['id']}", {"status": "done"}, who="cat")
        assert done.status_code == 200, done.text
        assert done.json()["status"] == {"code": "done", "label": "Done"}

        mine = await care.get("/tasks", who="cat", mine="true")
        everything = await care.get("/tasks", who="cat", mine="true", include_finished="true")
        finished = await care.get("/tasks", who="cat", mine="true", status="done")
        assert _titles(mine.json()) == ["Care plan"]
        assert _titles(everything.json()) == ["Care plan", "Intake visit"]
        assert _titles(finished.json()) == ["Intake visit"]
        assert len((await care.get("/tasks", who="cat")).json()["items"]) == 2

    async def test_an_executor_follows_up_a_task_for_a_colleague(self, care: Care) -> None:
        request = await care.register()
        visit = await _task(care, request["id"], "Intake visit", executor_id=care.id("cat"))

        follow_up = await _task(
            care,
            request["id"],
            "Deliver the bed",
            who="cat",
            executor_id=care.id("bob"),
            follows_task_id=visit["id"],
        )
        plain = await care.post(f"/requests/{request['id']}/tasks", {"title": "x"}, who="cat")

        assert follow_up["follows_task_id"] == visit["id"]
        assert follow_up["executor"]["id"] == care.id("bob")
        assert follow_up["created_by"]["id"] == care.id("cat")
        assert plain.status_code == 403 and plain.json()["code"] == "not_your_request"
        # Someone else's task: neither Bob's nor a task of his request.
        other = await care.patch(f"/tasks/{visit['id']}", {"status": "done"}, who="bob")
        assert other.status_code == 403 and other.json()["code"] == "not_your_task"

    async def test_overdue_tasks_are_visible_to_the_manager_and_in_the_history(
        self, care: Care
    ) -> None:
        request = await care.register()
        late = await _task(
            care,
            request["id"],
            "Send the offer",
            executor_id=care.id("cat"),
            due_at=(care.clock.now + HOUR).isoformat(),
        )
        await _task(
            care,
            request["id"],
            "Plan the visit",
            executor_id=care.id("bob"),
            due_at=(care.clock.now + 5 * HOUR).isoformat(),
        )
        care.clock.advance(2 * HOUR)

        overdue = await care.get("/tasks", overdue="true", handled="true")
        details = await care.get(f"/requests/{request['id']}")

        assert _titles(overdue.json()) == ["Send the offer"]
        assert overdue.json()["items"][0]["overdue"] is True
        assert [t["overdue"] for t in details.json()["tasks"]] == [True, False]
        assert [h["kind"] for h in details.json()["history"]] == [
            "task_added",
            "task_added",
            "registered",
        ]
        moved = await care.patch(
            f"/tasks/{late['id']}", {"due_at": (care.clock.now + HOUR).isoformat()}, who="ann"
        )
        assert moved.json()["overdue"] is False
        history = (await care.get(f"/requests/{request['id']}")).json()["history"]
        assert history[0]["kind"] == "task_changed" and "due_at" in history[0]["changes"]

    async def test_a_closed_task_cannot_be_reopened(self, care: Care) -> None:
        request = await care.register()
        task = await _task(care, request["id"], "Check the address")
        await care.patch(f"/tasks/{task['id']}", {"status": "closed"})

        r = await care.patch(f"/tasks/{task['id']}", {"status": "open"})

        assert r.status_code == 409 and r.json()["code"] == "status_not_allowed"

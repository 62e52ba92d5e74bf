"""POST /v1/assignments/{id}/imports (inline) and GET /v1/imports/{id} over HTTP."""

from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.queue import AssignmentQueue, Claimed
from shared.models import Customer, CustomFieldDefinition, Event, FieldType, ImportJob, Membership
from tests.api.customers.conftest import Importer

BROKEN_CSV = b"""external_id,first_name,phone_1,score,member_no
c1,Ada,+47 22 33 44 55,10,M1
c2,Bob,12,5,M2
,Cid,+4722334456,3,M3
c4,Dan,+4722334457
c5,Eve,+4722334458,lots,M5
c6,Fay,+4722334459,7,M1
c7,Gus,+4722334460,8,M7
"""


async def declare(
    session: AsyncSession, importer: Importer, key: str, type: FieldType, *, unique: bool = False
) -> None:
    session.add(
        CustomFieldDefinition(
            tenant_id=importer.org.tenant.id, key=key, type=type.value, unique_if_filled=unique
        )
    )
    await session.commit()


async def count(
    session: AsyncSession, model: type[Customer | Membership | Event | ImportJob]
) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


class TestImportCustomers:
    async def test_keeps_the_good_rows_of_a_broken_csv_and_reports_each_bad_row(
        self, acme: Importer, session: AsyncSession
    ) -> None:
        await declare(session, acme, "score", FieldType.number)
        await declare(session, acme, "member_no", FieldType.text, unique=True)

        r = await acme.csv(BROKEN_CSV)

        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["status"], body["progress"]) == ("done", 100.0)
        assert (body["total_rows"], body["accepted_rows"], body["rejected_rows"]) == (7, 2, 5)
        assert [(e["line"], e["external_id"]) for e in body["errors"]] == [
            (3, "c2"),
            (4, None),
            (5, "c4"),
            (6, "c5"),
            (7, "c6"),
        ]
        assert all(e["reason"] for e in body["errors"])
        external_ids = await session.scalars(select(Customer.external_id).order_by(Customer.id))
        assert list(external_ids) == ["c1", "c7"]

    async def test_imports_json(self, acme: Importer, session: AsyncSession) -> None:
        rows = [
            {"external_id": "c1", "first_name": "Ada", "phone": "22334455", "segment": "VIP"},
            {"external_id": "c2", "email": "not-an-address"},
        ]
        r = await acme.json({"rows": rows})
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["format"], body["accepted_rows"], body["rejected_rows"]) == ("json", 1, 1)
        assert body["errors"][0]["line"] == 2
        customer = await session.scalar(select(Customer))
        assert customer is not None
        assert (customer.external_id, customer.phone_1) == ("c1", "+4722334455")

    async def test_updates_an_existing_customer_by_external_id_without_duplicating(
        self, acme: Importer, session: AsyncSession
    ) -> None:
        await acme.csv(b"external_id,first_name,email\nc1,Ada,ada@example.no\n")
        r = await acme.csv(b"external_id,first_name\nc1,Augusta\n")
        assert r.json()["accepted_rows"] == 1
        customers = (await session.scalars(select(Customer))).all()
        assert [(c.first_name, c.email) for c in customers] == [("Augusta", "ada@example.no")]
        assert await count(session, Membership) == 1
        assert await count(session, Event) == 1

    async def test_places_the_imported_customers_in_the_queue(
        self, acme: Importer, session: AsyncSession, redis: Redis
    ) -> None:
        await acme.csv(b"external_id,first_name\nc1,Ada\n")
        claimed = await AssignmentQueue(redis, acme.assignment.id).claim(
            user_id=1, lease_seconds=60
        )
        assert isinstance(claimed, Claimed)
        customer = await session.scalar(select(Customer))
        assert customer is not None and claimed.customer_id == customer.id

    async def test_another_tenants_assignment_answers_404_and_writes_nothing(
        self, acme: Importer, globex: Importer, session: AsyncSession
    ) -> None:
        r = await acme.org.client.post(
            globex.path,
            content=b"external_id\nc1\n",
            headers={**acme.org.auth("setup"), "Content-Type": "text/csv"},
        )
        assert r.status_code == 404
        assert await count(session, Customer) == 0
        assert await count(session, ImportJob) == 0

    async def test_malformed_json_answers_422_and_writes_nothing(
        self, acme: Importer, session: AsyncSession
    ) -> None:
        r = await acme.org.client.post(
            acme.path,
            content=b'[{"external_id": "c1",',
            headers={**acme.org.auth("setup"), "Content-Type": "application/json"},
        )
        assert r.status_code == 422
        assert "malformed JSON" in r.json()["detail"]
        assert await count(session, ImportJob) == 0

    async def test_a_csv_without_an_external_id_column_answers_422(self, acme: Importer) -> None:
        r = await acme.csv(b"id,first_name\n1,Ada\n")
        assert r.status_code == 422
        assert r.json()["detail"] == "the file has no external_id column"

    async def test_an_empty_body_answers_422(self, acme: Importer) -> None:
        assert (await acme.csv(b"")).status_code == 422

    async def test_accepts_a_multipart_upload(self, acme: Importer, session: AsyncSession) -> None:
        r = await acme.org.client.post(
            acme.path,
            files={"file": ("customers.csv", b"external_id\nc1\nc2\n", "text/csv")},
            headers=acme.org.auth("setup"),
        )
        assert r.status_code == 200, r.text
        assert r.json()["accepted_rows"] == 2

    async def test_a_multipart_body_without_a_file_answers_422(self, acme: Importer) -> None:
        r = await acme.org.client.post(
            acme.path,
            data={"other": "x"},
            files={"nope": ("a.csv", b"x")},
            headers=acme.org.auth("setup"),
        )
        assert r.status_code == 422

    async def test_reads_a_csv_in_the_charset_it_declares(
        self, acme: Importer, session: AsyncSession
    ) -> None:
        r = await acme.org.client.post(
            acme.path,
            content="external_id;first_name\nc1;Ødegård\n".encode("cp1252"),
            headers={**acme.org.auth("setup"), "Content-Type": "text/csv; charset=windows-1252"},
        )
        assert r.status_code == 200, r.text
        assert await session.scalar(select(Customer.first_name)) == "Ødegård"

    async def test_unstorable_characters_are_reported_not_stored(
        self, acme: Importer, session: AsyncSession
    ) -> None:
        r = await acme.org.client.post(
            acme.path,
            content=b'[{"external_id": "c1", "\\udcff": 1, "first_name": "a\\u0000"}]',
            headers={**acme.org.auth("setup"), "Content-Type": "application/json"},
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["rejected_rows"] == 1
        assert body["errors"][0]["reason"] == "first_name has characters that are not text"
        assert body["warnings"] == ["column '\ufffd' is not a customer field and was ignored"]
        assert await count(session, Customer) == 0

    async def test_another_media_type_answers_415(self, acme: Importer) -> None:
        r = await acme.org.client.post(
            acme.path,
            content=b"<rows/>",
            headers={**acme.org.auth("setup"), "Content-Type": "application/xml"},
        )
        assert r.status_code == 415

    async def test_needs_the_assignment_setup_permission(
        self, acme: Importer, session: AsyncSession
    ) -> None:
        r = await acme.csv(b"external_id\nc1\n", role="agent")
        assert r.status_code == 403
        assert await count(session, Customer) == 0


class TestGetImport:
    async def test_shows_an_import_with_its_first_rejected_rows(self, acme: Importer) -> None:
        payload = b"external_id,email\n" + b"".join(b"c%d,bad\n" % i for i in range(5))
        created = (await acme.csv(payload)).json()

        r = await acme.poll(created["id"], errors_limit=2)

        assert r.status_code == 200
        body = r.json()
        assert (body["status"], body["rejected_rows"], body["errors_total"]) == ("done", 5, 5)
        assert [e["line"] for e in body["errors"]] == [2, 3]
        rest = await acme.org.get(
            f"/v1/imports/{created['id']}/errors", role="setup", cursor=body["errors_next"]
        )
        assert [e["line"] for e in rest.json()["items"]] == [4, 5, 6]
        assert rest.json()["next"] is None

    async def test_another_tenants_import_answers_404(
        self, acme: Importer, globex: Importer
    ) -> None:
        created = (await globex.csv(b"external_id\nc1\n")).json()
        assert (await acme.poll(created["id"])).status_code == 404

    async def test_an_unknown_import_answers_404(self, acme: Importer) -> None:
        assert (await acme.poll(999_999)).status_code == 404

    async def test_an_errors_limit_over_the_maximum_answers_422(self, acme: Importer) -> None:
        created = (await acme.csv(b"external_id\nc1\n")).json()
        assert (await acme.poll(created["id"], errors_limit=5000)).status_code == 422

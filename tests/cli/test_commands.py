"""The one-off commands: tenants, users, demo data, rebuilds."""

import asyncio
import json
import subprocess
import sys
from typing import Any

import pytest
from redis import Redis as SyncRedis
from rq import Queue
from sqlalchemy import Select, create_engine, func, select

from services.cli import main
from services.demo import DEMO_CUSTOMERS, PREDICTIVE_CUSTOMERS, tokens_path
from services.up import _prepare_data
from shared.infra.jobqueue import QueueName
from shared.infra.settings import Settings
from shared.infra.tokens import hash_token
from shared.models import (
    ApiToken,
    Assignment,
    Customer,
    PipelineRequest,
    PipelineTask,
    Tenant,
    User,
)
from tests.cli.conftest import queue_depth


def _scalar(settings: Settings, query: Select[Any]) -> Any:
    engine = create_engine(settings.sync_database_url())
    try:
        with engine.connect() as conn:
            return conn.execute(query).scalar()
    finally:
        engine.dispose()


class TestCreateTenantAndUser:
    def test_prints_the_id_then_a_working_token(
        self, cli_settings: Settings, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["create-tenant", "Acme", "--data-controller", "Acme AS"]) == 0
        tenant_id = int(capsys.readouterr().out.strip())

        code = main(
            ["create-user", "--tenant", str(tenant_id), "--name", "Kari", "--permissions",
             "customer_handling,reporting"]
        )  # fmt: skip

        assert code == 0
        token = capsys.readouterr().out.strip()
        user_id = _scalar(
            cli_settings, select(ApiToken.user_id).where(ApiToken.token_hash == hash_token(token))
        )
        assert user_id is not None
        assert _scalar(cli_settings, select(User.permissions).where(User.id == user_id)) == [
            "customer_handling",
            "reporting",
        ]
        assert _scalar(cli_settings, select(Tenant.data_controller)) == "Acme AS"

    def test_refuses_unknown_permissions(
        self, cli_settings: Settings, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code = main(["create-user", "--tenant", "1", "--name", "X", "--permissions", "root"])

        assert code == 2
        assert "unknown permissions ['root']" in capsys.readouterr().err

    def test_refuses_an_unknown_tenant(
        self, cli_settings: Settings, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code = main(
            ["create-user", "--tenant", "99", "--name", "X", "--permissions", "customer_handling"]
        )

        assert code == 1
        assert "tenant 99 not found" in capsys.readouterr().err


class TestDemoAndRebuild:
    def test_demo_loads_once_and_rebuild_places_it_again(
        self, cli_settings: Settings, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["demo"]) == 0
        assert "demo data loaded" in capsys.readouterr().out
        assert main(["demo"]) == 0
        assert "already there" in capsys.readouterr().out

        info = json.loads(tokens_path(cli_settings).read_text())
        assert [u["key"] for u in info["users"]] == [
            "admin",
            "supervisor",
            "agent1",
            "agent2",
            "agent3",
        ]
        assert tokens_path(cli_settings).stat().st_mode & 0o077 == 0
        assert _scalar(cli_settings, select(func.count(Customer.id))) == DEMO_CUSTOMERS
        # Name search works on demo data: every name folded, every place of residence set.
        unsearchable = select(func.count(Customer.id)).where(
            (Customer.search_name == "") | (Customer.city == "")
        )
        assert _scalar(cli_settings, unsearchable) == 0
        # The care pipeline's demo: two requests on demo customers, with tasks.
        assert _scalar(cli_settings, select(func.count(PipelineRequest.id))) == 2
        assert _scalar(cli_settings, select(func.count(PipelineTask.id))) == 2
        assignment_id = info["assignment_id"]
        assert queue_depth(cli_settings, assignment_id)["free"] == DEMO_CUSTOMERS

        SyncRedis.from_url(cli_settings.redis_url).flushdb()
        assert main(["rebuild"]) == 0

        assert f"assignment {assignment_id}: {DEMO_CUSTOMERS} customers placed" in (
            capsys.readouterr().out
        )
        assert queue_depth(cli_settings, assignment_id)["free"] == DEMO_CUSTOMERS

        # `up --simulate`: a predictive campaign of its own, made once, beside the preview one.
        created, predictive = asyncio.run(_prepare_data(cli_settings, rebuild=False, simulate=True))
        assert not created and predictive is not None and predictive != assignment_id
        assert asyncio.run(_prepare_data(cli_settings, rebuild=False, simulate=True)) == (
            False,
            predictive,
        )
        mode = select(Assignment.presentation_mode).where(Assignment.id == predictive)
        assert _scalar(cli_settings, mode) == "predictive"
        assert queue_depth(cli_settings, predictive)["free"] == PREDICTIVE_CUSTOMERS
        assert queue_depth(cli_settings, assignment_id)["free"] == DEMO_CUSTOMERS

    def test_rebuild_enqueue_queues_a_job(
        self, cli_settings: Settings, capsys: pytest.CaptureFixture[str]
    ) -> None:
        connection = SyncRedis.from_url(cli_settings.redis_url)
        connection.flushdb()

        assert main(["rebuild", "--enqueue", "--assignment", "7"]) == 0

        assert "assignment 7: queued job" in capsys.readouterr().out
        queue = Queue(QueueName.default, connection=connection)
        assert [job.args for job in queue.get_jobs()] == [(7,)]
        connection.close()

    def test_rebuild_of_an_unknown_assignment_fails(
        self, cli_settings: Settings, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["rebuild", "--assignment", "404"]) == 1
        assert "assignment 404: not found" in capsys.readouterr().err


class TestMetricsMode:
    def test_the_command_line_imports_no_metric_before_choosing_the_mode(self) -> None:
        """prometheus_client fixes multiprocess mode when first imported: `nextcall` must set
        PROMETHEUS_MULTIPROC_DIR before any module that declares a metric is imported."""
        code = "import sys, services.cli; print('prometheus_client' in sys.modules)"

        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
        )

        assert done.stdout.strip() == "False"

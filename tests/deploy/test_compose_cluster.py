"""deploy/compose.cluster.yaml: the stack's processes on a Redis Cluster, the jobs beside it."""

import yaml
from pydantic import SecretStr

from shared.infra.redis import cluster_seeds
from shared.infra.settings import Environment, Settings
from tests.deploy.queries import DEPLOY


def test_every_nextcall_process_uses_the_cluster_and_a_redis_for_the_jobs() -> None:
    services = yaml.safe_load((DEPLOY / "compose.cluster.yaml").read_text())["services"]
    nodes = [name for name in services if name.startswith("redis-") and name[-1].isdigit()]

    for name in ("migrate", "api", "worker"):
        env = services[name]["environment"]
        settings = Settings(
            env=Environment.production,
            database_url="postgresql://nextcall@postgres/nextcall",
            redis_url=env["NEXTCALL_REDIS_URL"],
            jobs_redis_url=env["NEXTCALL_JOBS_REDIS_URL"],
            session_secret=SecretStr("9f" * 32),
            _env_file=None,
        )
        seeds = cluster_seeds(settings.redis_url)
        assert seeds is not None
        assert {f"redis-{n}" for n in (1, 2, 3)} == {host for host, _ in seeds.nodes}
        assert cluster_seeds(settings.jobs_redis_url) is None
        assert services[name]["depends_on"]["redis-cluster"] == {
            "condition": "service_completed_successfully"
        }
    assert len(nodes) == 6
    assert "--cluster-replicas 1" in services["redis-cluster"]["entrypoint"][-1]

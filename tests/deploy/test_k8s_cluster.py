"""deploy/k8s/redis-cluster.yaml: six Redis nodes made one cluster of 3 masters with a replica
each, a Redis for the jobs, and the URLs it tells an operator to set name them."""

import re
from typing import Any

import yaml
from pydantic import SecretStr

from shared.infra.redis import cluster_seeds
from shared.infra.settings import Environment, Settings
from tests.deploy.queries import DEPLOY

MANIFEST = DEPLOY / "k8s" / "redis-cluster.yaml"


def _by_kind_and_name() -> dict[tuple[str, str], dict[str, Any]]:
    documents = yaml.safe_load_all(MANIFEST.read_text())
    return {(d["kind"], d["metadata"]["name"]): d for d in documents}


def test_six_nodes_behind_a_headless_service_are_made_one_cluster() -> None:
    found = _by_kind_and_name()
    nodes = found[("StatefulSet", "nextcall-redis")]["spec"]
    service = found[("Service", "nextcall-redis")]["spec"]
    create = found[("Job", "nextcall-redis-cluster-create")]["spec"]["template"]["spec"]
    command = create["containers"][0]["command"][-1]

    assert nodes["replicas"] == 6
    assert service["clusterIP"] == "None"
    assert nodes["serviceName"] == "nextcall-redis"
    server = nodes["template"]["spec"]["containers"][0]["command"][-1]
    assert "--cluster-enabled yes" in server
    assert "--cluster-config-file /data/nodes.conf" in server  # on the volume
    assert "for n in 0 1 2 3 4 5" in command
    assert "--cluster-replicas 1" in command


def test_the_urls_to_set_name_the_cluster_and_a_plain_redis_for_the_jobs() -> None:
    text = MANIFEST.read_text()
    redis_url = re.search(r"NEXTCALL_REDIS_URL=(\S+)", text)
    jobs_url = re.search(r"NEXTCALL_JOBS_REDIS_URL=(\S+)", text)
    assert redis_url and jobs_url

    settings = Settings(
        env=Environment.production,
        database_url="postgresql://nextcall@postgres/nextcall",
        redis_url=redis_url[1],
        jobs_redis_url=jobs_url[1],
        session_secret=SecretStr("9f" * 32),
        _env_file=None,
    )

    seeds = cluster_seeds(settings.redis_url)
    assert seeds is not None
    assert {host for host, _ in seeds.nodes} == {
        f"nextcall-redis-{n}.nextcall-redis" for n in (0, 1, 2)
    }
    assert cluster_seeds(settings.jobs_redis_url) is None
    jobs_service = _by_kind_and_name()[("Service", "nextcall-jobs-redis")]
    assert settings.jobs_redis_url.startswith(f"redis://{jobs_service['metadata']['name']}:6379")

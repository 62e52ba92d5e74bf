"""Settings: production requires a session secret and real servers; a Redis Cluster needs a
Redis of its own for the jobs."""

import pytest
from pydantic import SecretStr, ValidationError

from shared.infra.redis import cluster_seeds
from shared.infra.settings import DEVELOPMENT_SESSION_SECRET, Environment, Settings


class TestSessionSecret:
    def test_development_signs_with_the_default(self) -> None:
        settings = Settings(env=Environment.development, _env_file=None)
        assert settings.session_secret.get_secret_value() == DEVELOPMENT_SESSION_SECRET

    def test_production_refuses_the_default(self) -> None:
        with pytest.raises(ValidationError, match="NEXTCALL_SESSION_SECRET"):
            Settings(env=Environment.production, _env_file=None)

    def test_production_refuses_a_short_secret(self) -> None:
        with pytest.raises(ValidationError, match="at least 32"):
            Settings(
                env=Environment.production,
                session_secret=SecretStr("short"),
                _env_file=None,
            )

    def test_production_accepts_a_long_secret(self) -> None:
        secret = "9f" * 32
        settings = Settings(
            env=Environment.production,
            session_secret=SecretStr(secret),
            database_url="postgresql://db/nextcall",
            redis_url="redis://redis:6379/0",
            _env_file=None,
        )
        assert settings.session_secret.get_secret_value() == secret
        assert secret not in repr(settings)


class TestProductionRefusesToys:
    SECRET = SecretStr("9f" * 32)

    def test_without_a_database_or_redis(self) -> None:
        with pytest.raises(ValidationError) as error:
            Settings(env=Environment.production, session_secret=self.SECRET, _env_file=None)
        assert "NEXTCALL_DATABASE_URL and NEXTCALL_REDIS_URL must be set in production" in str(
            error.value
        )

    def test_without_redis(self) -> None:
        with pytest.raises(ValidationError, match=r"NEXTCALL_REDIS_URL must be set"):
            Settings(
                env=Environment.production,
                session_secret=self.SECRET,
                database_url="postgresql://db/nextcall",
                _env_file=None,
            )

    def test_development_runs_on_the_embedded_servers(self) -> None:
        assert Settings(env=Environment.development, _env_file=None).is_embedded()


class TestRedisCluster:
    def test_a_cluster_needs_a_redis_for_the_jobs(self) -> None:
        with pytest.raises(ValidationError, match="NEXTCALL_JOBS_REDIS_URL must name"):
            Settings(redis_url="redis+cluster://a:7000,b:7001", _env_file=None)

    def test_the_jobs_redis_is_no_cluster(self) -> None:
        with pytest.raises(ValidationError, match="must not be a Redis Cluster"):
            Settings(jobs_redis_url="redis://a:7000,b:7001", _env_file=None)

    @pytest.mark.parametrize(
        ("url", "nodes", "password", "tls"),
        [
            ("redis+cluster://a:7000,b:7001", [("a", 7000), ("b", 7001)], None, False),
            ("redis://a:7000,b", [("a", 7000), ("b", 6379)], None, False),
            ("rediss+cluster://:p%40ss@a:7000", [("a", 7000)], "p@ss", True),
        ],
    )
    def test_seed_nodes(
        self, url: str, nodes: list[tuple[str, int]], password: str | None, tls: bool
    ) -> None:
        seeds = cluster_seeds(url)
        assert seeds is not None
        assert (seeds.nodes, seeds.password, seeds.tls) == (nodes, password, tls)

    def test_one_redis_is_no_cluster(self) -> None:
        assert cluster_seeds("redis://a:6379/0") is None

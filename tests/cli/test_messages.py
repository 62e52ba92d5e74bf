"""What the command line says when it cannot run: one line on stderr, an exit code of its
own, no traceback (issue 14, point 8). Each case runs `nextcall` as a subprocess."""

import socket
import subprocess
import sys
from pathlib import Path

from shared.infra.settings import Settings
from tests.cli.run import NEXTCALL, ROOT, environment, nextcall
from tests.net import free_port


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr.rstrip("\n")


class TestBadSettings:
    def test_an_unknown_environment(self, tmp_path: Path) -> None:
        result = nextcall("migrate", env=environment(NEXTCALL_ENV="staging"), cwd=tmp_path)

        assert result.returncode == 2
        assert _one_line(result) == (
            "nextcall: bad setting NEXTCALL_ENV:"
            " Input should be 'development', 'testing' or 'production'"
        )

    def test_a_rate_limit_that_is_no_rate_limit(self, tmp_path: Path) -> None:
        env = environment(NEXTCALL_RATE_LIMIT_SEARCH="lots")

        result = nextcall("api", env=env, cwd=tmp_path)

        assert result.returncode == 2
        assert _one_line(result) == (
            "nextcall: bad setting NEXTCALL_RATE_LIMIT_SEARCH:"
            " 'lots' is no rate limit; write e.g. '60/minute'"
        )


class TestProductionRefusesToys:
    def test_the_api_does_not_start_on_the_embedded_servers(self, tmp_path: Path) -> None:
        env = environment(NEXTCALL_ENV="production", NEXTCALL_SESSION_SECRET="9f" * 32)

        result = nextcall("api", env=env, cwd=tmp_path)

        assert result.returncode == 2
        assert _one_line(result) == (
            "nextcall: bad setting NEXTCALL_DATABASE_URL and NEXTCALL_REDIS_URL must be set in"
            " production (the embedded SQLite and Redis are for trials on one machine)"
        )
        assert not (tmp_path / ".nextcall").exists()

    def test_an_unreachable_redis_cluster(self, settings: Settings, tmp_path: Path) -> None:
        port = free_port()
        env = environment(
            NEXTCALL_DATABASE_URL=settings.database_url,
            NEXTCALL_REDIS_URL=f"redis+cluster://127.0.0.1:{port}",
            NEXTCALL_JOBS_REDIS_URL=settings.redis_url,
        )

        result = nextcall("worker", env=env, cwd=tmp_path)

        assert result.returncode == 4
        assert _one_line(result).startswith(
            f"nextcall: cannot reach Redis at redis+cluster://127.0.0.1:{port}: "
        )


class TestUnreachableServices:
    def test_a_database_nobody_listens_on(self, tmp_path: Path) -> None:
        port = free_port()
        url = f"postgresql://nextcall:secret@127.0.0.1:{port}/nextcall"

        result = nextcall("migrate", env=environment(NEXTCALL_DATABASE_URL=url), cwd=tmp_path)

        assert result.returncode == 3
        assert _one_line(result) == (
            f"nextcall: cannot reach the database at postgresql://nextcall:***@127.0.0.1:{port}"
            f'/nextcall: connection failed: connection to server at "127.0.0.1", port {port}'
            " failed: Connection refused"
        )

    def test_a_redis_nobody_listens_on(self, settings: Settings, tmp_path: Path) -> None:
        port = free_port()
        env = environment(
            NEXTCALL_DATABASE_URL=settings.database_url,
            NEXTCALL_REDIS_URL=f"redis://:secret@127.0.0.1:{port}/0",
        )

        result = nextcall("worker", env=env, cwd=tmp_path)

        assert result.returncode == 4
        assert _one_line(result) == (
            f"nextcall: cannot reach Redis at redis://:***@127.0.0.1:{port}/0:"
            f" Error 111 connecting to 127.0.0.1:{port}. Connection refused."
        )

    def test_a_database_without_the_schema(self, tmp_path: Path) -> None:
        env = environment(NEXTCALL_DATA_DIR=str(tmp_path / "empty"))

        result = nextcall("create-tenant", "Acme", env=env, cwd=tmp_path)

        assert result.returncode == 1
        assert _one_line(result) == (
            "nextcall: the database has no nextcall schema yet: run `nextcall migrate`"
        )


class TestCreateTenant:
    def test_a_second_tenant_of_the_same_name_is_refused(
        self, settings: Settings, migrated: None, tmp_path: Path
    ) -> None:
        env = environment(NEXTCALL_DATABASE_URL=settings.database_url)
        first = nextcall("create-tenant", "Acme", env=env, cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        tenant_id = int(first.stdout)

        again = nextcall("create-tenant", "ACME", env=env, cwd=tmp_path)

        assert again.returncode == 1
        assert (
            _one_line(again) == f"nextcall: a tenant named 'ACME' exists already (id {tenant_id})"
        )


class TestUpOnATakenPort:
    def test_fails_in_one_line_before_printing_any_token(self, tmp_path: Path) -> None:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            env = environment(NEXTCALL_DATA_DIR=str(tmp_path / "data"))

            result = nextcall("up", "--port", str(port), env=env, cwd=tmp_path)

        assert result.returncode == 1
        assert result.stdout == ""  # nothing started, no token shown
        assert _one_line(result) == (
            f"nextcall up: port {port} on 127.0.0.1 is in use: stop what listens there,"
            " or choose another port with --port"
        )


class TestBench:
    def test_help_works_with_the_projects_packages(self, tmp_path: Path) -> None:
        result = nextcall("bench", "--help", env=environment(), cwd=tmp_path)

        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("usage: nextcall bench")

    def test_says_in_one_line_what_to_install_when_a_package_is_missing(
        self, tmp_path: Path
    ) -> None:
        # As after `scripts/run`, which installs the service without the benchmark's extras.
        without_httpx = (
            "import sys; sys.modules['httpx'] = None; from services.cli import main;"
            " sys.exit(main(['bench', '--help']))"
        )
        result = subprocess.run(
            [sys.executable, "-c", without_httpx],
            env=environment(),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )

        assert result.returncode == 1
        pip = Path(NEXTCALL).parent / "pip"
        assert _one_line(result) == (
            f"nextcall: the benchmark needs the package 'httpx':"
            f" install it with {pip} install -e '{ROOT}[bench]'"
        )

"""Settings: the dashboard's session secret is required in production."""

import pytest
from pydantic import SecretStr, ValidationError

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
            _env_file=None,
        )
        assert settings.session_secret.get_secret_value() == secret
        assert secret not in repr(settings)

"""Signatures a Standard Webhooks library verifies, and the URLs a webhook may be sent to."""

import json
import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from shared.webhooks import signing
from shared.webhooks.targets import TargetRefused, checked_url, resolve


class TestSigning:
    def test_the_standard_library_verifies_our_signature(self) -> None:
        secret = signing.new_secret()
        body = json.dumps({"type": "outcome.registered", "data": {"customer_id": 1}}).encode()
        headers = signing.headers(secret, "msg_1", int(time.time()), body)
        verified = Webhook(secret).verify(body, headers)
        assert verified["data"] == {"customer_id": 1}

    def test_another_secret_or_a_changed_body_does_not_verify(self) -> None:
        secret = signing.new_secret()
        body = b'{"a":1}'
        headers = signing.headers(secret, "msg_1", int(time.time()), body)
        with pytest.raises(WebhookVerificationError):
            Webhook(signing.new_secret()).verify(body, headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(b'{"a":2}', headers)

    def test_secrets_differ_and_carry_the_prefix(self) -> None:
        secrets = {signing.new_secret() for _ in range(10)}
        assert len(secrets) == 10
        assert all(s.startswith("whsec_") for s in secrets)


class TestTargets:
    @pytest.mark.parametrize(
        "url",
        [
            "http://crm.example.com/hooks",  # plain http
            "https://127.0.0.1/hooks",
            "https://localhost/hooks",
            "https://api.localhost/hooks",
            "https://10.1.2.3/hooks",
            "https://192.168.0.10/hooks",
            "https://172.16.0.1/hooks",
            "https://169.254.169.254/latest/meta-data",  # the cloud metadata service
            "https://[::1]/hooks",
            "https://[::ffff:127.0.0.1]/hooks",
            "https://[fd00::1]/hooks",
            "https://0.0.0.0/hooks",
            "https://user:pass@crm.example.com/hooks",
            "ftp://crm.example.com/hooks",
            "https:///hooks",
            "https://crm.example.com:99999/hooks",
            "https://crm.example.com/hooks#part",
            "not a url",
            "https://crm.example.com/" + "a" * 2000,
        ],
    )
    def test_refused_in_production(self, url: str) -> None:
        with pytest.raises(TargetRefused):
            checked_url(url, allow_private=False)

    def test_a_public_https_url_is_taken(self) -> None:
        url = "https://crm.example.com:8443/hooks?tenant=1"
        assert checked_url(url, allow_private=False) == url

    def test_loopback_and_http_when_private_targets_are_allowed(self) -> None:
        assert checked_url("http://127.0.0.1:8080/x", allow_private=True)
        with pytest.raises(TargetRefused):
            checked_url("ftp://127.0.0.1/x", allow_private=True)

    @pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "10.0.0.8"])
    async def test_the_address_is_checked_again_before_sending(self, host: str) -> None:
        # A name that pointed elsewhere when the endpoint was saved may resolve here now.
        with pytest.raises(TargetRefused, match="resolves"):
            await resolve(f"https://{host}/hooks", allow_private=False)
        await resolve(f"https://{host}/hooks", allow_private=True)

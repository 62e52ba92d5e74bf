"""/docs and /redoc load everything from the API itself: they work on an offline network."""

import re

import httpx
import pytest

# Every URL a page loads: script sources, style sheets, icons, and the schema.
_URL = re.compile(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']|url:\s*["']([^"']+)["']""")


def _urls(html: str) -> list[str]:
    return [a or b for a, b in _URL.findall(html)]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_page_references_no_external_host(client: httpx.AsyncClient, page: str) -> None:
    r = await client.get(page)

    assert r.status_code == 200
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}", r.text, re.IGNORECASE), r.text
    urls = _urls(r.text)
    assert "/openapi.json" in urls
    assert any(u.endswith(".js") for u in urls)
    for url in urls:
        assert url.startswith("/"), url
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 100, url


async def test_swagger_ui_does_not_call_the_public_validator(client: httpx.AsyncClient) -> None:
    r = await client.get("/docs")

    assert '"validatorUrl": null' in r.text

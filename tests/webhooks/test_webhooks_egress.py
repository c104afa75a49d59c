"""Server-side request forgery through webhooks: with authentication on, a contributor cannot
make the server call loopback, private, link-local (the cloud metadata endpoint) or reserved
addresses, neither at creation nor at delivery (a name that resolves there is refused at the
connection, pinned to the address that was checked); an operator may allow them."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from steward import Settings
from steward._egress import PublicOnlyTransport, check_public_url, is_public_address
from steward.errors import InvalidInputError
from steward.wiring import build_services

SECRET = "egress-secret-0123456789"


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True), ("2606:4700:4700::1111", True),
        ("127.0.0.1", False), ("10.1.2.3", False), ("172.16.0.9", False), ("192.168.1.1", False),
        ("169.254.169.254", False), ("0.0.0.0", False), ("100.64.0.1", False), ("::1", False),
        ("fe80::1%eth0", False), ("fd00::1", False), ("::ffff:127.0.0.1", False), ("224.0.0.1", False), ("not-an-ip", False),
    ],
)
def test_only_globally_routable_unicast_addresses_are_public(address: str, public: bool) -> None:
    assert is_public_address(address) is public


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080/hook", "http://localhost/hook", "http://169.254.169.254/latest/meta-data/", "http://[::1]:9/x",
     "https://10.0.0.5/hook?token=abc", "http://0.0.0.0/"],
)
def test_team_mode_refuses_a_webhook_to_a_private_address_naming_the_field(tmp_path: Path, url: str) -> None:
    settings = Settings(home=tmp_path, auth="on", user="server", capture_git=False, capture_packages=False)
    assert not settings.private_urls_allowed()
    services = build_services(settings)
    try:
        hooks = services.webhooks("contributor")
        with pytest.raises(InvalidInputError) as refused:
            hooks.create_webhook("internal", url, project="fraud", events=["*"], secret=SECRET)
        assert refused.value.field == "url" and "token=abc" not in str(refused.value)
        assert hooks.list_webhooks() == []
    finally:
        services.close()


def test_the_operator_may_allow_private_addresses_and_embedded_use_allows_them(tmp_path: Path) -> None:
    allowed = Settings(home=tmp_path / "a", auth="on", allow_private_urls=True, capture_git=False, capture_packages=False)
    assert allowed.private_urls_allowed()
    assert Settings(home=tmp_path / "b", auth="off").private_urls_allowed()
    assert not Settings(home=tmp_path / "c", auth="off", allow_private_urls=False).private_urls_allowed()
    services = build_services(allowed)
    try:
        hook = services.webhooks("ops").create_webhook("local", "http://127.0.0.1:9/hook", project="fraud", events=["*"], secret=SECRET)
        assert hook.name == "local"
    finally:
        services.close()


def test_a_delivery_to_a_name_that_resolves_to_loopback_is_refused_at_the_connection() -> None:
    """The name passed the creation check (say it resolved elsewhere then); at delivery the
    transport resolves it to 127.0.0.1 and refuses before any byte is sent."""
    reached: list[httpx.Request] = []
    inner = httpx.MockTransport(lambda request: reached.append(request) or httpx.Response(200))
    with httpx.Client(transport=PublicOnlyTransport(inner)) as client:
        with pytest.raises(httpx.ConnectError, match="loopback, private"):
            client.post("http://localhost:9/hook", content=b"{}")
        with pytest.raises(httpx.ConnectError, match="loopback, private"):
            client.post("http://169.254.169.254/latest", content=b"{}")
    assert reached == []


def test_a_public_destination_is_pinned_to_the_checked_address_and_keeps_its_name() -> None:
    seen: list[httpx.Request] = []
    inner = httpx.MockTransport(lambda request: seen.append(request) or httpx.Response(204))
    with httpx.Client(transport=PublicOnlyTransport(inner)) as client:
        answer = client.post("https://8.8.8.8:8443/hook?x=1", content=b"{}")
    assert answer.status_code == 204
    request = seen[0]
    assert request.url.host == "8.8.8.8" and request.url.port == 8443 and request.url.query == b"x=1"
    assert request.headers["host"] == "8.8.8.8:8443" and request.extensions["sni_hostname"] == "8.8.8.8"


def test_an_unresolvable_name_is_left_to_the_delivery_check() -> None:
    check_public_url("https://hooks.invalid/hook")  # .invalid never resolves: no answer now, checked at each delivery
    with pytest.raises(InvalidInputError):
        check_public_url("http://127.0.0.1/hook")

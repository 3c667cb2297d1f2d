"""Redirects are refused, naming only the host: nothing follows them, so nothing is re-sent.

Every client kind meets 301/302/307/308 pointing at another server (by another host name, with a
token in the query), and a redirect back to its own host; the identity domain meets 307/308 to another
server's token path, the redirect that would re-POST the token request.
"""

import pytest

from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.fusion import FusionError
from oracle_mailchimp_dagster.mailchimp import MailchimpConfigurationError
from tests.security.conftest import HostileFactory
from tests.support.hostile_servers import (
    CLIENT_KINDS,
    TOKEN_PATH,
    Behaviour,
    ClientKind,
    exception_texts,
    leaked,
    subject,
)

STATUSES = (301, 302, 307, 308)
LURE = "?access_token=lure-0123456789"


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("kind", CLIENT_KINDS)
def test_a_redirect_elsewhere_is_refused_naming_the_host(
    kind: ClientKind, status: int, hostile: HostileFactory
) -> None:
    elsewhere = hostile()
    target = f"localhost:{elsewhere.port}"
    origin = hostile(resource=Behaviour("redirect", status, location=f"http://{target}/collect{LURE}"))
    client = subject(kind, origin)
    with pytest.raises((FusionError, MailchimpConfigurationError)) as caught:
        client.call()
    client.close()
    message = str(caught.value)
    assert isinstance(caught.value, UserError), "a configuration error, not a retryable one"
    assert f"redirected to {target}" in message and "check the " in message, message
    assert "/collect" not in message and "lure-" not in message
    assert elsewhere.seen == [], "the redirect was followed"
    assert [s.path for s in origin.seen if s.path != TOKEN_PATH] == [s.path for s in origin.seen][-1:]
    assert leaked(exception_texts(caught.value), client.secrets) == []


@pytest.mark.parametrize("kind", CLIENT_KINDS)
def test_a_redirect_to_the_same_host_does_not_resend_the_credentials(
    kind: ClientKind, hostile: HostileFactory
) -> None:
    origin = hostile(resource=Behaviour("redirect", 307, location="/elsewhere"))
    client = subject(kind, origin)
    with pytest.raises((FusionError, MailchimpConfigurationError)) as caught:
        client.call()
    client.close()
    assert f"redirected to 127.0.0.1:{origin.port}" in str(caught.value)
    assert [s.path for s in origin.seen if s.path.startswith("/elsewhere")] == []
    assert len([s for s in origin.seen if s.path != TOKEN_PATH]) == 1, "one request, never repeated"


@pytest.mark.parametrize("status", (307, 308))
def test_the_token_request_is_never_re_posted(status: int, hostile: HostileFactory) -> None:
    collector = hostile()
    identity = hostile(
        token=Behaviour("redirect", status, location=f"http://localhost:{collector.port}{TOKEN_PATH}{LURE}")
    )
    client = subject("fusion-oauth", identity)
    with pytest.raises(FusionError) as caught:
        client.call()
    client.close()
    message = str(caught.value)
    assert f"token endpoint: the server redirected to localhost:{collector.port}" in message, message
    assert "check the token URL" in message and TOKEN_PATH not in message
    assert collector.seen == [], "the token body was sent to the redirect target"
    assert [(s.method, s.path) for s in identity.seen] == [("POST", TOKEN_PATH)]

"""A server that echoes the request into its error body: no credential reaches an exception.

Each client kind meets 4xx and 5xx answers, as JSON (every field either client reads an error from)
and as an HTML page, each copying the Authorization header, the credentials it decodes and the body.
"""

import pytest

from oracle_mailchimp_dagster.fusion import FusionError
from oracle_mailchimp_dagster.mailchimp import MailchimpError
from tests.security.conftest import HostileFactory
from tests.support.hostile_servers import (
    CLIENT_KINDS,
    Behaviour,
    ClientKind,
    exception_texts,
    leaked,
    subject,
)

ECHOES = [Behaviour("echo", status, html=html) for status in (400, 401, 403, 500) for html in (False, True)]


@pytest.mark.parametrize("kind", CLIENT_KINDS)
def test_echoed_error_bodies_carry_no_credential(kind: ClientKind, hostile: HostileFactory) -> None:
    for echo in ECHOES:
        server = hostile(resource=echo)
        client = subject(kind, server)
        with pytest.raises((FusionError, MailchimpError)) as caught:
            client.call()
        client.close()
        case = f"{kind}, HTTP {echo.status} {'HTML' if echo.html else 'JSON'}"
        # The server did see credentials to echo, and the error is the echo's.
        assert any(seen.authorization for seen in server.seen), case
        assert str(echo.status) in str(caught.value), (case, str(caught.value))
        assert leaked(exception_texts(caught.value), client.secrets) == [], (case, caught.value)


def test_an_echoing_token_endpoint_leaks_neither_secret_nor_credentials(hostile: HostileFactory) -> None:
    for echo in ECHOES:
        server = hostile(token=echo)
        client = subject("fusion-oauth", server)
        with pytest.raises(FusionError) as caught:
            client.call()
        client.close()
        case = f"token endpoint, HTTP {echo.status} {'HTML' if echo.html else 'JSON'}"
        assert [seen.method for seen in server.seen][:1] == ["POST"], case
        assert leaked(exception_texts(caught.value), client.secrets) == [], (case, caught.value)

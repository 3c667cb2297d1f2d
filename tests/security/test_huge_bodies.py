"""A body over the cap stops the read at the cap, whether the server announces its size or not."""

import pytest

from oracle_mailchimp_dagster.errors import UserError
from oracle_mailchimp_dagster.fusion import FusionError
from oracle_mailchimp_dagster.mailchimp import MailchimpConfigurationError
from tests.security.conftest import HostileFactory
from tests.support.hostile_servers import CLIENT_KINDS, Behaviour, ClientKind, subject

CAP = 1024 * 1024
FLOOD = 64 * 1024 * 1024


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "until-closed"])
@pytest.mark.parametrize("kind", CLIENT_KINDS)
def test_a_huge_body_is_refused_at_the_cap(kind: ClientKind, declared: bool, hostile: HostileFactory) -> None:
    server = hostile(resource=Behaviour("flood", declare_length=declared, flood_bytes=FLOOD))
    client = subject(kind, server, max_response_bytes=CAP)
    with pytest.raises((FusionError, MailchimpConfigurationError)) as caught:
        client.call()
    client.close()
    message = str(caught.value)
    assert isinstance(caught.value, UserError)
    assert "exceeds the response size cap of 1 MiB (max_response_bytes)" in message, message
    if declared:
        assert f"({FLOOD} bytes)" in message
    # Socket buffers absorb some of the flood; the client read no more than its cap of it.
    assert server.bytes_sent < FLOOD / 2, server.bytes_sent
    assert len([s for s in server.seen if s.method == "GET"]) == 1, "not retried"

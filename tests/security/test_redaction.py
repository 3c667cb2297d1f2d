"""The redaction rules (pure): known secrets in every encoding, credential-shaped text, URL userinfo."""

import base64
import json
from urllib.parse import quote

import pytest
from pydantic import SecretStr

from oracle_mailchimp_dagster.http.redaction import REDACTED, Redactor, host_of, redact

SECRET = "Tr1cky/secret+value=with&chars"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize("user", ["u", "us", "usr", "oracle-mailchimp", "INTEGRATION.USER", ""])
def test_base64_of_user_and_a_known_secret_is_removed_at_any_alignment(user: str) -> None:
    encoded = b64(f"{user}:{SECRET}")
    text = redact(f"echo {encoded} (was {encoded[:3]}...)", [SECRET])
    assert encoded not in text and REDACTED in text
    # Nothing of the encoding is left to decode: the whole base64 run went.
    assert all(len(word) < 8 for word in text.replace(REDACTED, " ").split())


@pytest.mark.parametrize(
    "form",
    [SECRET, quote(SECRET, safe=""), json.dumps(SECRET)[1:-1], b64(SECRET)],
    ids=["plain", "percent", "json", "base64"],
)
def test_a_known_secret_is_removed_in_each_encoding(form: str) -> None:
    assert redact(f"the server said {form}!", [SecretStr(SECRET)]) == f"the server said {REDACTED}!"


def test_a_known_token_alone_is_removed_without_a_scheme() -> None:
    redactor = Redactor(["base-secret"]).with_secrets(SecretStr("tok-1234567890"))
    assert redactor("token tok-1234567890 expired") == f"token {REDACTED} expired"
    assert "tok-" not in repr(redactor) and "base-secret" not in repr(redactor)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"Authorization: Basic {b64('anyone:anything')}", f"Authorization: {REDACTED}"),
        (f"sent basic {b64('someone:pw')} here", f"sent basic {REDACTED} here"),
        ("Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", f"Bearer {REDACTED}"),
        ("OAuth 0123456789abcdef0123456789abcdef", f"OAuth {REDACTED}"),
        ('{"access_token": "opaque value", "n": 1}', f'{{"access_token": "{REDACTED}", "n": 1}}'),
        ('{"Authorization":"apikey 1234"}', f'{{"Authorization":"{REDACTED}"}}'),
        (
            "grant_type=client_credentials&access_token=abc&x=1",
            f"grant_type=client_credentials&access_token={REDACTED}&x=1",
        ),
        ("client_secret=s3cr3t", f"client_secret={REDACTED}"),
    ],
)
def test_credential_shaped_text_is_removed_without_knowing_the_secret(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "prose",
    [
        "the pod rejected Basic credentials for user 'INTEGRATION.USER' (HTTP 401)",
        "Basic auth is not enabled",
        "the identity domain rejected OAuth client 'acme-client' (HTTP 401)",
        "check the API key (or OAuth token) and its data center",
        "the pod rejected a freshly issued token twice: check the Bearer token scope",
        "scope urn:opc:resource:fa:instanceid=1234567urn:opc:resource:consumer::all",
        "https://acme.fa.us2.oraclecloud.com:443/crmRestApi/resources/11.13.18.05/accounts?limit=1",
    ],
)
def test_our_own_messages_pass_unchanged(prose: str) -> None:
    assert redact(prose) == prose


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://user:TOPSECRETPW@acme.example.com/x", f"http://user:{REDACTED}@acme.example.com/x"),
        ("https://0123456789abcdef@api.example.com", f"https://{REDACTED}@api.example.com"),
        ("https://u:@h.example", f"https://u:{REDACTED}@h.example"),
    ],
)
def test_url_userinfo_loses_its_password(url: str, expected: str) -> None:
    assert redact(f"'{url}' must use https") == f"'{expected}' must use https"


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://evil.example.com/oauth2/v1/token?access_token=abc", "evil.example.com"),
        ("https://user:pw@evil.example.com:8443/p", "evil.example.com:8443"),
        ("http://[::1]:9000/", "[::1]:9000"),
        ("/relative/only", "an unreadable address"),
        ("http://host:notaport/", "an unreadable address"),
    ],
)
def test_host_of_names_the_host_only(url: str, host: str) -> None:
    assert host_of(url) == host


def test_nothing_to_redact_leaves_text_alone() -> None:
    assert redact("", ["x"]) == "" and redact("plain words", []) == "plain words"
    assert redact("plain words", ["", None]) == "plain words"

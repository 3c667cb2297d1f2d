"""A stored credential sealed with where it belongs: its tenant, its name and the hosts it was entered for.

The envelope is what Fernet encrypts, so someone who can write the database but has no master key can
neither point a credential at other hosts nor move it to another tenant: `tenants.connections` checks
the hosts before anything is sent. A credential stored before binding existed (a plain value) has no
hosts; it goes where the settings say until it is entered again.
"""

import json
from dataclasses import dataclass

from pydantic import SecretStr

from oracle_mailchimp_dagster.store.records import SecretName

FORMAT = "oracle-mailchimp/bound-secret/1"
_PREFIX = f'{{"format":"{FORMAT}",'


@dataclass(frozen=True)
class BoundSecret:
    """A decrypted credential and its binding (None for one stored before binding existed)."""

    value: SecretStr
    tenant_id: str | None = None
    name: str | None = None
    hosts: dict[str, str | None] | None = None


def seal(value: SecretStr, tenant_id: str, name: SecretName, hosts: dict[str, str | None]) -> SecretStr:
    """The plaintext to encrypt: the credential with its tenant, name and hosts."""
    envelope = {
        "format": FORMAT,
        "tenant": tenant_id,
        "name": name.value,
        "hosts": hosts,
        "secret": value.get_secret_value(),
    }
    return SecretStr(json.dumps(envelope, separators=(",", ":")))


def unseal(plaintext: SecretStr) -> BoundSecret:
    """The credential and its binding; a plain (older) value comes back unbound.

    Raises ValueError when the envelope is damaged (it never says what it held).
    """
    text = plaintext.get_secret_value()
    if not text.startswith(_PREFIX):
        return BoundSecret(plaintext)
    try:
        envelope = json.loads(text)
        hosts = envelope["hosts"]
        bound = BoundSecret(
            SecretStr(str(envelope["secret"])), str(envelope["tenant"]), str(envelope["name"]), dict(hosts)
        )
    except (ValueError, KeyError, TypeError):
        raise ValueError("the stored credential's envelope is damaged") from None
    return bound

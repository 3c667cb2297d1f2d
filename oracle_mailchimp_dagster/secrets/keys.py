"""A master key: Fernet key material plus a stable, non-secret id derived from it."""

import base64
import binascii
import hashlib
from dataclasses import dataclass, field

from cryptography.fernet import Fernet
from pydantic import SecretStr

_ID_DOMAIN = b"oracle-mailchimp master key id\x00"
KEY_ID_LENGTH = 12


def key_id_of(raw_key: bytes) -> str:
    """First 48 bits of a domain-separated SHA-256: identifies a key, reveals nothing usable about it."""
    return hashlib.sha256(_ID_DOMAIN + raw_key).hexdigest()[:KEY_ID_LENGTH]


@dataclass(frozen=True)
class MasterKey:
    key_id: str
    material: SecretStr = field(repr=False)

    @classmethod
    def generate(cls) -> "MasterKey":
        return cls.parse(Fernet.generate_key().decode("ascii"))

    @classmethod
    def parse(cls, text: str) -> "MasterKey":
        """Validate Fernet key text (32 url-safe base64 bytes); raises ValueError without echoing it."""
        text = text.strip()
        try:
            raw = base64.urlsafe_b64decode(text.encode("ascii"))
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raise ValueError("not url-safe base64") from None
        if len(raw) != 32:
            raise ValueError(f"decodes to {len(raw)} bytes, a Fernet key is 32")
        return cls(key_id=key_id_of(raw), material=SecretStr(text))

    def fernet(self) -> Fernet:
        return Fernet(self.material.get_secret_value().encode("ascii"))

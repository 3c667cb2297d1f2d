"""Encrypt with the newest master key; decrypt with whichever key a ciphertext names."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.fernet import InvalidToken, MultiFernet
from pydantic import SecretStr

from oracle_mailchimp_dagster.secrets.errors import CiphertextRejected, KeyNotInKeyring, MasterKeyError
from oracle_mailchimp_dagster.secrets.keys import MasterKey


@dataclass(frozen=True)
class Sealed:
    """A ciphertext and the id of the key that made it (stored side by side)."""

    key_id: str
    ciphertext: str = field(repr=False)


class Keyring:
    """Master keys, newest (primary) first. Old keys keep decrypting until removed."""

    def __init__(self, keys: Sequence[MasterKey]) -> None:
        self._keys = {key.key_id: key for key in keys}
        self._order = [key.key_id for key in keys]

    def __repr__(self) -> str:
        return f"Keyring(key_ids={self._order!r})"

    @property
    def key_ids(self) -> list[str]:
        return list(self._order)

    @property
    def primary(self) -> MasterKey:
        if not self._order:
            raise MasterKeyError("no master key is configured")
        return self._keys[self._order[0]]

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._keys

    def encrypt(self, plaintext: SecretStr) -> Sealed:
        key = self.primary
        token = key.fernet().encrypt(plaintext.get_secret_value().encode("utf-8"))
        return Sealed(key_id=key.key_id, ciphertext=token.decode("ascii"))

    def decrypt(self, sealed: Sealed) -> SecretStr:
        key = self._keys.get(sealed.key_id)
        if key is None:
            raise KeyNotInKeyring(sealed.key_id)
        try:
            plaintext = key.fernet().decrypt(sealed.ciphertext.encode("ascii"))
        except (InvalidToken, UnicodeEncodeError):
            raise CiphertextRejected(sealed.key_id) from None
        try:
            return SecretStr(plaintext.decode("utf-8"))
        except UnicodeDecodeError:
            raise CiphertextRejected(sealed.key_id) from None

    def reseal(self, sealed: Sealed) -> Sealed:
        """Re-encrypt under the primary key (MultiFernet.rotate), checking the named key first."""
        self.decrypt(sealed)
        rotator = MultiFernet([self._keys[key_id].fernet() for key_id in self._order])
        token = rotator.rotate(sealed.ciphertext.encode("ascii"))
        return Sealed(key_id=self.primary.key_id, ciphertext=token.decode("ascii"))

"""Key and decryption errors; none of them ever carries key material, ciphertext or plaintext."""

from oracle_mailchimp_dagster.errors import UserError


class MasterKeyError(UserError):
    """The master keys cannot be found, read, parsed or changed as asked."""


class KeyNotInKeyring(Exception):
    """A ciphertext names a key the keyring does not hold."""

    def __init__(self, key_id: str) -> None:
        super().__init__(f"master key {key_id} is not in the keyring")
        self.key_id = key_id


class CiphertextRejected(Exception):
    """The ciphertext does not verify with the key it names: altered, or the key was replaced."""

    def __init__(self, key_id: str) -> None:
        super().__init__(f"ciphertext does not verify with master key {key_id}")
        self.key_id = key_id


class SecretDecryptionError(UserError):
    """A tenant's stored secret cannot be decrypted; names the tenant and the secret, nothing more."""

    def __init__(self, tenant_id: str, secret_name: str, reason: str) -> None:
        super().__init__(f"cannot decrypt {secret_name} of tenant '{tenant_id}': {reason}")
        self.tenant_id = tenant_id
        self.secret_name = secret_name
        self.reason = reason

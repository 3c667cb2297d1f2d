"""Master keys and encryption of tenant credentials (Fernet; MultiFernet for rotation).

`KeyStore` finds the master keys (ORACLE_MAILCHIMP_MASTER_KEY, or a key file created 0600 on first
use); `Keyring` encrypts and decrypts with them. Plaintext only ever travels as `SecretStr`.
"""

from oracle_mailchimp_dagster.secrets.errors import (
    CiphertextRejected,
    KeyNotInKeyring,
    MasterKeyError,
    SecretDecryptionError,
)
from oracle_mailchimp_dagster.secrets.keyring import Keyring, Sealed
from oracle_mailchimp_dagster.secrets.keys import MasterKey
from oracle_mailchimp_dagster.secrets.keystore import KEY_FILE_ENV, MASTER_KEY_ENV, KeyStore

__all__ = [
    "KEY_FILE_ENV",
    "MASTER_KEY_ENV",
    "CiphertextRejected",
    "KeyNotInKeyring",
    "KeyStore",
    "Keyring",
    "MasterKey",
    "MasterKeyError",
    "Sealed",
    "SecretDecryptionError",
]

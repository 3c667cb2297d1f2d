"""Master keys and the keyring: encryption round trip, rotation, tampering, wrong and missing keys."""

import os
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from oracle_mailchimp_dagster.secrets import (
    KEY_FILE_ENV,
    MASTER_KEY_ENV,
    CiphertextRejected,
    KeyNotInKeyring,
    Keyring,
    KeyStore,
    MasterKey,
    MasterKeyError,
    Sealed,
)

PLAINTEXT = "s3cr3t-ümlaut-value"


def test_encrypt_decrypt_round_trip_names_the_key() -> None:
    key = MasterKey.generate()
    keyring = Keyring([key])
    sealed = keyring.encrypt(SecretStr(PLAINTEXT))
    assert sealed.key_id == key.key_id
    assert PLAINTEXT not in sealed.ciphertext
    assert keyring.decrypt(sealed).get_secret_value() == PLAINTEXT


def test_nothing_secret_shows_in_reprs() -> None:
    key = MasterKey.generate()
    sealed = Keyring([key]).encrypt(SecretStr(PLAINTEXT))
    material = key.material.get_secret_value()
    for shown in (repr(key), str(key), repr(sealed), repr(Keyring([key]))):
        assert material not in shown
        assert sealed.ciphertext not in shown
    assert key.key_id in repr(key)


def test_key_ids_are_stable_and_distinct() -> None:
    text = Fernet.generate_key().decode()
    assert MasterKey.parse(text).key_id == MasterKey.parse(text).key_id
    assert MasterKey.parse(text).key_id != MasterKey.generate().key_id


def test_tampered_ciphertext_is_rejected() -> None:
    keyring = Keyring([MasterKey.generate()])
    sealed = keyring.encrypt(SecretStr(PLAINTEXT))
    middle = len(sealed.ciphertext) // 2
    flipped = "A" if sealed.ciphertext[middle] != "A" else "B"
    tampered = Sealed(sealed.key_id, sealed.ciphertext[:middle] + flipped + sealed.ciphertext[middle + 1 :])
    with pytest.raises(CiphertextRejected):
        keyring.decrypt(tampered)
    with pytest.raises(CiphertextRejected):
        keyring.decrypt(Sealed(sealed.key_id, "not even base64 ✗"))


def test_a_ciphertext_under_an_absent_key_says_which_key() -> None:
    sealed = Keyring([MasterKey.generate()]).encrypt(SecretStr(PLAINTEXT))
    with pytest.raises(KeyNotInKeyring) as caught:
        Keyring([MasterKey.generate()]).decrypt(sealed)
    assert caught.value.key_id == sealed.key_id


def test_a_key_replaced_under_the_same_id_is_detected() -> None:
    sealed = Keyring([MasterKey.generate()]).encrypt(SecretStr(PLAINTEXT))
    impostor = MasterKey(key_id=sealed.key_id, material=MasterKey.generate().material)
    with pytest.raises(CiphertextRejected):
        Keyring([impostor]).decrypt(sealed)


def test_rotation_reseals_under_the_new_primary_and_old_keys_keep_decrypting() -> None:
    old, new = MasterKey.generate(), MasterKey.generate()
    sealed = Keyring([old]).encrypt(SecretStr(PLAINTEXT))
    rotated_ring = Keyring([new, old])
    assert rotated_ring.decrypt(sealed).get_secret_value() == PLAINTEXT
    resealed = rotated_ring.reseal(sealed)
    assert resealed.key_id == new.key_id
    assert Keyring([new]).decrypt(resealed).get_secret_value() == PLAINTEXT


def test_the_key_file_is_created_0600_on_first_use_and_reused(tmp_path: Path) -> None:
    store = KeyStore.from_env({KEY_FILE_ENV: str(tmp_path / "sub" / "keys")})
    assert store.load().key_ids == []
    assert not store.key_file.exists()
    first = store.load(create=True)
    assert stat.S_IMODE(os.stat(store.key_file).st_mode) == 0o600
    assert store.load().key_ids == first.key_ids
    assert store.describe() == f"key file {store.key_file}"


def test_default_key_file_sits_in_dagster_home(tmp_path: Path) -> None:
    store = KeyStore.from_env({"DAGSTER_HOME": str(tmp_path)})
    assert store.key_file == tmp_path / "oracle_mailchimp.key"


def test_keys_from_the_environment_win_and_are_newest_first(tmp_path: Path) -> None:
    new, old = MasterKey.generate(), MasterKey.generate()
    value = f"{new.material.get_secret_value()}, {old.material.get_secret_value()}"
    store = KeyStore.from_env({MASTER_KEY_ENV: value, KEY_FILE_ENV: str(tmp_path / "unused")})
    assert store.load(create=True).key_ids == [new.key_id, old.key_id]
    assert store.describe() == f"environment variable {MASTER_KEY_ENV}"
    assert not (tmp_path / "unused").exists()


def test_an_invalid_key_in_the_environment_is_named_but_not_echoed() -> None:
    store = KeyStore.from_env({MASTER_KEY_ENV: "hunter2-not-a-key"})
    with pytest.raises(MasterKeyError) as caught:
        store.load()
    assert f"{MASTER_KEY_ENV} line 1 is not a valid Fernet key" in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_rotation_and_removal_edit_the_key_file(tmp_path: Path) -> None:
    store = KeyStore.from_env({KEY_FILE_ENV: str(tmp_path / "keys")})
    original = store.load(create=True).primary
    added = store.add_primary()
    assert store.load().key_ids == [added.key_id, original.key_id]
    assert stat.S_IMODE(os.stat(store.key_file).st_mode) == 0o600
    with pytest.raises(MasterKeyError, match="is the primary key"):
        store.remove(added.key_id)
    with pytest.raises(MasterKeyError, match="no master key 000000000000"):
        store.remove("000000000000")
    store.remove(original.key_id)
    assert store.load().key_ids == [added.key_id]


def test_keys_in_the_environment_cannot_be_edited_here() -> None:
    store = KeyStore.from_env({MASTER_KEY_ENV: MasterKey.generate().material.get_secret_value()})
    with pytest.raises(MasterKeyError, match="change that variable"):
        store.add_primary()

"""Where master keys live: ORACLE_MAILCHIMP_MASTER_KEY, or a key file created with mode 0600 on first use.

The environment wins when set (keys separated by commas, newest first) and is read-only to us; the
key file holds one key per line, newest first, and is the one `keys rotate` and `keys remove` edit.
"""

import logging
import os
import stat
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from oracle_mailchimp_dagster.secrets.errors import MasterKeyError
from oracle_mailchimp_dagster.secrets.keyring import Keyring
from oracle_mailchimp_dagster.secrets.keys import MasterKey

MASTER_KEY_ENV = "ORACLE_MAILCHIMP_MASTER_KEY"
KEY_FILE_ENV = "ORACLE_MAILCHIMP_KEY_FILE"
DEFAULT_KEY_FILE_NAME = "oracle_mailchimp.key"

KEYS_HELP = (
    f"Master keys: ${MASTER_KEY_ENV} (comma-separated, newest first), else the key file "
    f"${KEY_FILE_ENV}, default {DEFAULT_KEY_FILE_NAME} in $DAGSTER_HOME or the working directory, "
    "created with mode 0600 on first use. Back it up: without it stored credentials cannot be decrypted."
)

_FILE_HEADER = (
    "# oracle-mailchimp master keys, newest first. Keep this file secret (mode 0600) and backed up:\n"
    "# without it the credentials stored in the database cannot be decrypted.\n"
)

log = logging.getLogger(__name__)
# How long `keys rotate` / `keys remove` wait for another one to finish editing the key file.
LOCK_TIMEOUT_S = 120.0


def parse_key_lines(text: str, origin: str) -> list[MasterKey]:
    """Keys from file or variable text: one per line or comma-separated; '#' starts a comment."""
    keys: list[MasterKey] = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        for item in line.split("#", 1)[0].split(","):
            if not item.strip():
                continue
            try:
                keys.append(MasterKey.parse(item))
            except ValueError as exc:
                raise MasterKeyError(
                    f"{origin} line {line_number} is not a valid Fernet key ({exc}); "
                    "make one with `oracle-mailchimp keys generate`"
                ) from None
    unique: dict[str, MasterKey] = {}
    for key in keys:
        unique.setdefault(key.key_id, key)
    return list(unique.values())


@dataclass(frozen=True)
class KeyStore:
    """Reads and (for the key file) writes master keys."""

    env_value: str | None
    key_file: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> "KeyStore":
        env = os.environ if env is None else env
        value = env.get(MASTER_KEY_ENV, "").strip() or None
        explicit = env.get(KEY_FILE_ENV, "").strip()
        if explicit:
            path = Path(explicit)
        else:
            home = env.get("DAGSTER_HOME")
            path = (Path(home) if home else (Path.cwd() if cwd is None else cwd)) / DEFAULT_KEY_FILE_NAME
        return cls(env_value=value, key_file=path.absolute())

    @property
    def uses_env(self) -> bool:
        return self.env_value is not None

    def describe(self) -> str:
        if self.uses_env:
            return f"environment variable {MASTER_KEY_ENV}"
        return f"key file {self.key_file}"

    def describe_missing(self) -> str:
        return f"no master key: {MASTER_KEY_ENV} is unset and the key file {self.key_file} does not exist"

    def load(self, *, create: bool = False) -> Keyring:
        """The keyring; with `create`, a missing key file is made (0600) with one new key."""
        if self.env_value is not None:
            keys = parse_key_lines(self.env_value, MASTER_KEY_ENV)
            if not keys:
                raise MasterKeyError(f"{MASTER_KEY_ENV} is set but holds no key")
            return Keyring(keys)
        if not self.key_file.exists():
            if not create:
                return Keyring([])
            key = MasterKey.generate()
            try:
                self._write([key], exclusive=True)
            except FileExistsError:  # another process created it first: use theirs
                return Keyring(self._read())
            log.info("created master key file %s (key %s)", self.key_file, key.key_id)
            return Keyring([key])
        return Keyring(self._read())

    def _read(self) -> list[MasterKey]:
        try:
            mode = self.key_file.stat().st_mode
            text = self.key_file.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not a key file"
            raise MasterKeyError(f"cannot read key file {self.key_file}: {reason}") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise MasterKeyError(
                f"key file {self.key_file} is open to other users (mode {stat.S_IMODE(mode):04o}): "
                f"run `chmod 600 {self.key_file}`"
            )
        return parse_key_lines(text, f"key file {self.key_file}")

    @contextmanager
    def editing(self) -> Iterator[None]:
        """Hold the key file's exclusive lock: one `keys rotate` or `keys remove` at a time, from reading
        the keys to the last re-encrypted secret, so two rotations never drop each other's key."""
        if self.uses_env:
            yield  # read-only here: nothing to serialise
            return
        lock = FileLock(f"{self.key_file}.lock", timeout=LOCK_TIMEOUT_S, mode=0o600)
        try:
            self.key_file.parent.mkdir(parents=True, exist_ok=True)
            with lock:
                yield
        except Timeout:
            raise MasterKeyError(
                f"another `oracle-mailchimp keys` command has held {lock.lock_file} for "
                f"{LOCK_TIMEOUT_S:.0f} s; try again when it has finished"
            ) from None

    def _write(self, keys: list[MasterKey], *, exclusive: bool = False) -> None:
        """Replace the key file atomically; the content never exists with looser permissions than 0600."""
        directory = self.key_file.parent
        try:
            directory.mkdir(parents=True, exist_ok=True)
            body = _FILE_HEADER + "".join(f"{key.material.get_secret_value()}\n" for key in keys)
            if exclusive:
                fd = os.open(self.key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w", encoding="ascii") as handle:
                    handle.write(body)
                return
            fd, temp = tempfile.mkstemp(prefix=".oracle_mailchimp_key.", dir=directory)  # mkstemp: 0600
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(body)
            os.replace(temp, self.key_file)
        except FileExistsError:
            raise
        except OSError as exc:
            raise MasterKeyError(f"cannot write key file {self.key_file}: {exc.strerror}") from None

    def _require_file(self, action: str) -> list[MasterKey]:
        if self.uses_env:
            raise MasterKeyError(
                f"master keys come from {MASTER_KEY_ENV}, which oracle-mailchimp cannot edit: "
                f"to {action}, change that variable (keys comma-separated, newest first)"
            )
        return self._read() if self.key_file.exists() else []

    def add_primary(self) -> MasterKey:
        """Generate a key and make it the newest (used for every new encryption)."""
        keys = self._require_file("add a key")
        key = MasterKey.generate()
        self._write([key, *keys], exclusive=not keys and not self.key_file.exists())
        return key

    def remove(self, key_id: str) -> None:
        keys = self._require_file(f"remove key {key_id}")
        remaining = [key for key in keys if key.key_id != key_id]
        if len(remaining) == len(keys):
            raise MasterKeyError(f"no master key {key_id} in {self.describe()}")
        if keys[0].key_id == key_id:
            raise MasterKeyError(
                f"key {key_id} is the primary key, used for every new encryption: "
                "run `oracle-mailchimp keys rotate` first to make a new primary"
            )
        self._write(remaining)

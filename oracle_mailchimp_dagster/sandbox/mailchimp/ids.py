"""Deterministic ids (list ids, unique_email_id, contact_id, web_id) from the sandbox seed."""

import random
import threading


class IdSource:
    """Ids drawn from one seeded generator, so a seeded sandbox hands out the same ids every run."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def hex(self, length: int) -> str:
        with self._lock:
            return f"{self._random.getrandbits(4 * length):0{length}x}"

    def web_id(self) -> int:
        with self._lock:
            return self._random.randint(100_000, 999_999_999)

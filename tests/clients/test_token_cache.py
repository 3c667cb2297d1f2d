"""The process token cache: reuse until shortly before expiry, one fetch under contention, one
token per credential (a wrong secret never borrows a right one's token)."""

import threading
import time

import pytest
from pydantic import SecretStr

from oracle_mailchimp_dagster.fusion import FusionAuthError, FusionOAuth
from oracle_mailchimp_dagster.fusion.oauth import token_key
from oracle_mailchimp_dagster.fusion.tokens import IssuedToken, TokenCache, TokenKey
from oracle_mailchimp_dagster.sandbox.fusion import RunningFusionSandbox
from oracle_mailchimp_dagster.sync.identity import credential_fingerprint
from tests.support.fusion_clients import fusion_client, oauth_connection, stats

KEY = TokenKey("https://idcs.example/oauth2/v1/token", "client", "scope", "fingerprint-of-secret")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Issuer:
    """Counts token requests; each call issues a new, numbered token."""

    def __init__(self, expires_in: float = 3600.0, delay_s: float = 0.0) -> None:
        self.calls = 0
        self.expires_in = expires_in
        self.delay_s = delay_s
        self._lock = threading.Lock()

    def __call__(self) -> IssuedToken:
        with self._lock:
            self.calls += 1
            n = self.calls
        if self.delay_s:
            time.sleep(self.delay_s)  # a slow identity domain, so waiters pile up on the lock
        return IssuedToken(SecretStr(f"token-{n}"), self.expires_in)


def test_token_reused_until_margin_before_expiry() -> None:
    clock, issue = Clock(), Issuer(expires_in=3600)
    cache = TokenCache(clock)
    token, fetched = cache.get(KEY, issue, margin_s=60)
    assert fetched and token.get_secret_value() == "token-1"
    clock.now += 3539
    assert cache.get(KEY, issue, margin_s=60) == (token, False)
    clock.now += 1
    token2, fetched2 = cache.get(KEY, issue, margin_s=60)
    assert fetched2 and token2.get_secret_value() == "token-2"
    assert issue.calls == 2


def test_margin_never_exceeds_a_tenth_of_a_short_token_life() -> None:
    clock, issue = Clock(), Issuer(expires_in=10)
    cache = TokenCache(clock)
    cache.get(KEY, issue, margin_s=60)
    clock.now += 8.9
    assert cache.get(KEY, issue, margin_s=60)[1] is False
    clock.now += 0.2
    assert cache.get(KEY, issue, margin_s=60)[1] is True


def test_many_threads_at_once_cause_one_fetch() -> None:
    cache, issue = TokenCache(), Issuer(delay_s=0.05)
    barrier = threading.Barrier(50)
    seen: list[str] = []

    def worker() -> None:
        barrier.wait()
        seen.append(cache.get(KEY, issue, margin_s=60)[0].get_secret_value())

    threads = [threading.Thread(target=worker) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert issue.calls == 1
    assert set(seen) == {"token-1"} and len(seen) == 50


def test_invalidate_drops_only_the_stale_token() -> None:
    cache, issue = TokenCache(), Issuer()
    stale, _ = cache.get(KEY, issue, margin_s=0)
    cache.invalidate(KEY, stale)
    fresh, fetched = cache.get(KEY, issue, margin_s=0)
    assert fetched and fresh.get_secret_value() == "token-2"
    cache.invalidate(KEY, stale)  # a late thread still holding the old token
    assert cache.get(KEY, issue, margin_s=0) == (fresh, False)


def test_keys_are_separate_and_tokens_are_masked() -> None:
    cache, issue = TokenCache(), Issuer()
    other = TokenKey(KEY.token_url, "client", "another-scope", KEY.credential)
    a, _ = cache.get(KEY, issue, margin_s=0)
    b, _ = cache.get(other, issue, margin_s=0)
    assert a != b and issue.calls == 2
    assert "token-" not in repr(a) and "token-" not in str(a)


def test_the_key_names_the_secret_by_its_fingerprint_only() -> None:
    def auth(secret: str) -> FusionOAuth:
        return FusionOAuth(token_url=KEY.token_url, client_id="client", client_secret=secret, scope="scope")

    right, wrong = token_key(auth("the-right-Secret-1")), token_key(auth("a-wrong-Secret-2"))
    assert right != wrong
    assert right.credential == credential_fingerprint("the-right-Secret-1")
    assert "the-right-Secret-1" not in repr(right) and "a-wrong-Secret-2" not in repr(wrong)


def test_a_wrong_secret_never_borrows_the_token_of_the_same_client_id(
    fusion_sandbox: RunningFusionSandbox,
) -> None:
    """Two tenants, one OAuth client id, one process cache: only the right secret gets a token."""
    cache = TokenCache()
    right = fusion_client(oauth_connection(fusion_sandbox), cache=cache)
    wrong = fusion_client(oauth_connection(fusion_sandbox, client_secret="Wr0ng-client-secret"), cache=cache)
    right.check_token()
    assert right.fetch_sample(limit=1) == 1

    for call in (wrong.check_token, lambda: wrong.fetch_sample(limit=1)):
        with pytest.raises(FusionAuthError) as refused:
            call()
        assert refused.value.oauth_error == "invalid_client" and refused.value.status == 401
    assert stats(fusion_sandbox)["token_grants"] == 1, "the right secret's token is still the cached one"
    assert stats(fusion_sandbox)["token_denials"] == 2
    right.fetch_sample(limit=1)
    assert stats(fusion_sandbox)["token_grants"] == 1

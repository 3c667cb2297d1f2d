"""Mailchimp Marketing API client: one taxonomy of errors, batch upserts in parallel under a per-key limit."""

import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial
from itertools import islice
from types import TracebackType
from typing import Any

import orjson
import requests
from pydantic import ValidationError
from requests.auth import HTTPBasicAuth

from oracle_mailchimp_dagster.http import CallCounters, HttpTransport, RetryableFailure, looks_like_html
from oracle_mailchimp_dagster.http.transport import ResponseHook
from oracle_mailchimp_dagster.mailchimp.batch import batch_body, batch_outcomes, failed_batch_outcomes
from oracle_mailchimp_dagster.mailchimp.endpoints import (
    MalformedApiKey,
    api_base_for_dc,
    api_base_from_endpoint,
    data_center,
    iso_timestamp,
    subscriber_hash,
)
from oracle_mailchimp_dagster.mailchimp.errors import (
    ErrorKind,
    MailchimpConfigurationError,
    MailchimpProblem,
    MailchimpRecordError,
    Scope,
    configuration_error,
    error_for,
)
from oracle_mailchimp_dagster.mailchimp.limits import ConcurrencyLimiter, key_fingerprint, limiter_for_key
from oracle_mailchimp_dagster.mailchimp.models import (
    AudienceList,
    MemberChanges,
    MemberOutcome,
    MemberPayload,
    MemberState,
    MergeField,
    MergeFieldSpec,
    TagChange,
    tag_key,
)
from oracle_mailchimp_dagster.mailchimp.parallel import in_parallel
from oracle_mailchimp_dagster.mailchimp.problems import problem_from_body, retryable_problem
from oracle_mailchimp_dagster.mailchimp.settings import MailchimpClientOptions, MailchimpConnection
from oracle_mailchimp_dagster.mailchimp.tagging import (
    SegmentCall,
    deleted_tag_problem,
    plan_tag_changes,
    segment_call_problems,
    segment_calls,
)

_JSON = {"Content-Type": "application/json", "Accept": "application/json"}
_AUDIENCE_FIELDS = (
    "members.id,members.email_address,members.status,members.last_changed,members.unsubscribe_reason,"
    "total_items"
)
_SEGMENT_FIELDS = "segments.id,segments.name,total_items"


def transient_reason(response: requests.Response) -> str | None:
    """408, 429 and 5xx (except Mailchimp's "Compliance Related" 503), and HTML pages where JSON belongs."""
    status = response.status_code
    if status in (408, 429) or (
        status >= 500 and b"compliance related" not in response.content[:512].lower()
    ):
        return f"HTTP {status}" + (" (HTML page)" if looks_like_html(response) else "")
    if 200 <= status < 300 and looks_like_html(response):
        return f"HTML page with HTTP {status}"
    return None


class MailchimpClient:
    """One Mailchimp account. Thread-safe; every request holds a slot of the key's shared limit."""

    def __init__(
        self,
        connection: MailchimpConnection,
        options: MailchimpClientOptions | None = None,
        *,
        session: requests.Session | None = None,
        response_hooks: Iterable[ResponseHook] = (),
    ) -> None:
        self.connection = connection
        self.options = options or MailchimpClientOptions()
        self.stats = CallCounters()
        secret = connection.secret.get_secret_value()
        if connection.api_key is not None:
            try:
                self._dc: str | None = data_center(secret)
            except MalformedApiKey as exc:
                raise configuration_error(str(exc)) from None
            self._auth: HTTPBasicAuth | None = HTTPBasicAuth("oracle-mailchimp", secret)
            self._auth_headers: dict[str, str] = {}
        else:
            self._dc = None
            self._auth = None
            self._auth_headers = {"Authorization": f"Bearer {secret}"}
        self._api_base = connection.api_base or (api_base_for_dc(self._dc) if self._dc else None)
        self._api_base_lock = threading.Lock()
        self.key_id = key_fingerprint(secret)
        self.limiter: ConcurrencyLimiter = limiter_for_key(secret, self.options.concurrency)
        self._transport = HttpTransport(
            retry=self.options.retry,
            timeouts=self.options.timeouts,
            session=session,
            pool_maxsize=max(10, self.options.concurrency),
            response_hooks=response_hooks,
        )

    def __repr__(self) -> str:
        return f"MailchimpClient(key_id={self.key_id!r}, api_base={self._api_base!r})"

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> "MailchimpClient":
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ---- account and list --------------------------------------------------------------------

    @property
    def api_base(self) -> str:
        """The versioned base URL: override, API key data center, or the OAuth metadata endpoint."""
        if self._api_base is None:
            with self._api_base_lock:
                if self._api_base is None:
                    self._api_base = self._discover_api_base()
        return self._api_base

    def ping(self) -> None:
        """Raise unless the credentials work against this data center."""
        self._call("GET", "/ping", scope="account")

    def get_list(self, list_id: str) -> AudienceList:
        body = self._json(
            "GET", f"/lists/{list_id}", scope="list", params={"fields": "id,name,stats.member_count"}
        )
        stats = body.get("stats") or {}
        return AudienceList(id=body["id"], name=body["name"], member_count=stats.get("member_count"))

    def get_merge_fields(self, list_id: str) -> list[MergeField]:
        fields: list[MergeField] = []
        offset = 0
        while True:
            body = self._json(
                "GET",
                f"/lists/{list_id}/merge-fields",
                scope="list",
                params={"count": 1000, "offset": offset},
            )
            page = [MergeField.model_validate(entry) for entry in body.get("merge_fields", [])]
            fields.extend(page)
            offset += len(page)
            if not page or offset >= int(body.get("total_items", 0)):
                return fields

    def create_merge_field(self, list_id: str, spec: MergeFieldSpec) -> MergeField:
        body = self._json(
            "POST", f"/lists/{list_id}/merge-fields", scope="list", json_body=spec.wire(), idempotent=False
        )
        return MergeField.model_validate(body)

    # ---- batch upserts ------------------------------------------------------------------------

    def upsert_batch(
        self, list_id: str, members: Sequence[MemberPayload], *, skip_merge_validation: bool = False
    ) -> list[MemberOutcome]:
        """Upsert up to 500 members in one `POST /lists/{id}`; one outcome per member, in input order.

        Raises only when the request fails as a whole (the MailchimpError of its kind).
        """
        body = batch_body(members)
        params = {"skip_merge_validation": "true"} if skip_merge_validation else None
        answer = self._json("POST", f"/lists/{list_id}", scope="list", json_body=body, params=params)
        self.stats.add("batches")
        return batch_outcomes(members, answer)

    def upsert_many(
        self,
        list_id: str,
        members: Iterable[MemberPayload],
        *,
        skip_merge_validation: bool = False,
    ) -> Iterator[list[MemberOutcome]]:
        """Upsert any number of members in batches sent in parallel; yields each batch's outcomes.

        Batches complete in any order. A batch that fails as a whole after retries yields that
        failure for each of its members; configuration errors (auth, wrong list) stop everything.
        """
        size = self.options.batch_size
        source = iter(members)
        batches = iter(lambda: list(islice(source, size)), [])
        tasks = (partial(self._upsert_batch_outcomes, list_id, b, skip_merge_validation) for b in batches)
        yield from in_parallel(self.options.concurrency, tasks, "mailchimp-batch")

    def _upsert_batch_outcomes(
        self, list_id: str, batch: list[MemberPayload], skip_merge_validation: bool
    ) -> list[MemberOutcome]:
        try:
            return self.upsert_batch(list_id, batch, skip_merge_validation=skip_merge_validation)
        except MailchimpRecordError as exc:
            return failed_batch_outcomes(batch, exc.problem)

    # ---- single members -----------------------------------------------------------------------

    def put_member(
        self, list_id: str, member: MemberPayload, *, skip_merge_validation: bool = False
    ) -> MemberState:
        """Upsert one member (PUT on its hash) with `status_if_new`; returns the member as stored."""
        params = {"skip_merge_validation": "true"} if skip_merge_validation else None
        body = self._json(
            "PUT", self._member_path(list_id, member.email_address), json_body=member.wire(), params=params
        )
        return MemberState.model_validate(body)

    def update_member(self, list_id: str, email: str, changes: MemberChanges) -> MemberState:
        """PATCH an existing member (found by its current address)."""
        body = self._json("PATCH", self._member_path(list_id, email), json_body=changes.wire())
        return MemberState.model_validate(body)

    def change_email(self, list_id: str, old_email: str, new_email: str) -> MemberState:
        """Move an existing member to a new address (PATCH of the old hash); its id becomes md5(new)."""
        return self.update_member(list_id, old_email, MemberChanges(email_address=new_email))

    def archive_member(self, list_id: str, email: str) -> None:
        """DELETE: the member is archived (restorable, not billed)."""
        self._call("DELETE", self._member_path(list_id, email))

    def delete_member_permanently(self, list_id: str, email: str) -> None:
        """GDPR erasure: the address can never be re-imported. Use only for erasure requests."""
        self._call("POST", self._member_path(list_id, email) + "/actions/delete-permanent")

    def update_tags(
        self,
        list_id: str,
        email: str,
        *,
        add: Iterable[str] = (),
        remove: Iterable[str] = (),
        is_syncing: bool = True,
    ) -> None:
        """Add and remove tags on one member; `is_syncing` keeps tag automations from firing."""
        tags = [{"name": name, "status": "active"} for name in add]
        tags += [{"name": name, "status": "inactive"} for name in remove]
        if not tags:
            return
        self._call(
            "POST",
            self._member_path(list_id, email) + "/tags",
            json_body={"tags": tags, "is_syncing": is_syncing},
        )

    def iter_members_changed_since(
        self,
        list_id: str,
        since: datetime,
        *,
        status: str | None = None,
        page_size: int = 1000,
    ) -> Iterator[MemberState]:
        """Members whose `last_changed` is at or after `since`, oldest first, each change once.

        Offset pages over a set that may change meanwhile: each page re-reads the tail of the
        previous one (a tenth of a page), so members moving to the end between two requests shift
        nothing out of sight. Re-read rows are dropped by (id, last_changed); a member that changed
        again during the scan is yielded again with its newer state.
        """
        if not 1 <= page_size <= 1000:
            raise ValueError("page_size must be between 1 and 1000")
        overlap = page_size // 10
        seen: set[tuple[str, datetime | None]] = set()
        offset = 0
        while True:
            params: dict[str, Any] = {
                "since_last_changed": iso_timestamp(since),
                "sort_field": "last_changed",
                "sort_dir": "ASC",
                "count": page_size,
                "offset": offset,
                "fields": _AUDIENCE_FIELDS,
            }
            if status is not None:
                params["status"] = status
            body = self._json("GET", f"/lists/{list_id}/members", scope="list", params=params)
            members = body.get("members") or []
            for entry in members:
                member = MemberState.model_validate(entry)
                key = (member.id, member.last_changed)
                if key not in seen:
                    seen.add(key)
                    yield member
            if len(members) < page_size:
                return
            offset += max(len(members) - overlap, 1)

    # ---- tags as static segments --------------------------------------------------------------

    def tag_segments(self, list_id: str) -> dict[str, int]:
        """Every tag (static segment) of the list: name as Mailchimp spells it -> segment id."""
        segments: dict[str, int] = {}
        offset = 0
        while True:
            body = self._json(
                "GET",
                f"/lists/{list_id}/segments",
                scope="list",
                params={"type": "static", "count": 1000, "offset": offset, "fields": _SEGMENT_FIELDS},
            )
            page = body.get("segments") or []
            for entry in page:
                segments[str(entry["name"])] = int(entry["id"])
            offset += len(page)
            if not page or offset >= int(body.get("total_items") or 0):
                return segments

    def ensure_tag_segments(self, list_id: str, names: Iterable[str]) -> dict[str, int]:
        """The segment id of each tag name (as given), creating the missing ones.

        Names match case-insensitively, as in Mailchimp. A tag another caller creates at the same
        time is found by reading the segments again, not reported as a failure.
        """
        given = list(dict.fromkeys(names))
        if any(not name.strip() for name in given):
            raise ValueError("a tag name must not be empty")
        wanted: dict[str, str] = {}
        for name in given:
            wanted.setdefault(tag_key(name), name.strip())
        ids, failures = self._resolve_tag_segments(list_id, wanted, create=wanted)
        if failures:
            key, problem = next(iter(failures.items()))
            raise error_for(problem, f"creating tag '{wanted[key]}'")
        return {name: ids[tag_key(name)] for name in given}

    def apply_tag_changes(
        self, list_id: str, changes: Mapping[str, TagChange]
    ) -> dict[str, MailchimpProblem]:
        """Add and remove tags of many members with bulk segment calls; the problem of each failed address.

        Calls carry up to 500 addresses each way and run in parallel under the key's shared limit,
        retried like other idempotent calls. Tags to add are created when missing. An address
        Mailchimp refuses (not on the list, archived) gets its problem; a call that fails as a whole
        gives its failure to each of its addresses; configuration errors raise. Keys of the result
        are the keys of `changes`.
        """
        plan = plan_tag_changes(changes)
        if not plan.additions and not plan.removals:
            return {}
        try:
            ids, failures = self._resolve_tag_segments(list_id, plan.names, create=plan.additions)
        except MailchimpRecordError as exc:
            lists = (*plan.additions.values(), *plan.removals.values())
            return {plan.owners[address]: exc.problem for addresses in lists for address in addresses}
        problems: dict[str, MailchimpProblem] = {}
        for key, problem in failures.items():
            for address in plan.additions[key]:
                problems.setdefault(address, problem)
        calls = segment_calls(plan, ids)
        tasks = (partial(self._segment_call, list_id, call) for call in calls)
        for found in in_parallel(self.options.concurrency, tasks, "mailchimp-tags"):
            for address, problem in found.items():
                problems.setdefault(address, problem)
        return {plan.owners[address]: problem for address, problem in problems.items()}

    def _resolve_tag_segments(
        self, list_id: str, names: Mapping[str, str], *, create: Iterable[str]
    ) -> tuple[dict[str, int], dict[str, MailchimpProblem]]:
        """Segment ids by tag key for `names` (key -> name), creating the keys in `create` if missing.

        Missing tags are created in parallel. Failed creations are followed by a fresh read: a tag
        that exists now (another caller made it, or a retried create of ours had worked) is used.
        That makes creation safe to retry and lets two callers race, the loser reading the winner's
        segment. Returns the ids found or made, and the problem of each tag that could not be made.
        """
        known = self._segment_ids_by_key(list_id)
        missing = [key for key in dict.fromkeys(create) if key not in known]
        tasks = (partial(self._create_tag_segment, list_id, key, names[key]) for key in missing)
        failed: dict[str, MailchimpProblem] = {}
        for key, made in in_parallel(self.options.concurrency, tasks, "mailchimp-tag-create"):
            if isinstance(made, int):
                known[key] = made
            else:
                failed[key] = made
        if failed:
            known.update(self._segment_ids_by_key(list_id))
        failures = {key: problem for key, problem in failed.items() if key not in known}
        if len(failed) > len(failures):
            self.stats.add("tag_segments_found_after_create_failed", len(failed) - len(failures))
        return {key: known[key] for key in names if key in known}, failures

    def _create_tag_segment(self, list_id: str, key: str, name: str) -> tuple[str, int | MailchimpProblem]:
        """Create an empty static segment: its id, or the problem that stopped it (configuration raises)."""
        try:
            body = self._json(
                "POST",
                f"/lists/{list_id}/segments",
                scope="list",
                json_body={"name": name, "static_segment": []},
            )
        except MailchimpRecordError as exc:
            return key, exc.problem
        self.stats.add("tag_segments_created")
        return key, int(body["id"])

    def _segment_ids_by_key(self, list_id: str) -> dict[str, int]:
        return {tag_key(name): segment_id for name, segment_id in self.tag_segments(list_id).items()}

    def _segment_call(self, list_id: str, call: SegmentCall) -> dict[str, MailchimpProblem]:
        try:
            answer = self._json(
                "POST", f"/lists/{list_id}/segments/{call.segment_id}", scope="list", json_body=call.body()
            )
        except MailchimpConfigurationError as exc:
            if exc.problem.status != 404:
                raise
            # The list answered moments ago: someone deleted the tag meanwhile. Its removals are
            # done; its additions can wait for the next run, which creates the tag again.
            self.stats.add("tag_segments_deleted_meanwhile")
            return {address: deleted_tag_problem(call.tag) for address in call.add}
        except MailchimpRecordError as exc:
            return {address: exc.problem for address in call.addresses}
        self.stats.add("segment_calls")
        return segment_call_problems(call, answer)

    # ---- wire ---------------------------------------------------------------------------------

    @staticmethod
    def _member_path(list_id: str, email: str) -> str:
        return f"/lists/{list_id}/members/{subscriber_hash(email)}"

    def _json(
        self,
        method: str,
        path: str,
        *,
        scope: Scope = "member",
        json_body: Any = None,
        params: dict[str, Any] | None = None,
        idempotent: bool = True,
    ) -> dict[str, Any]:
        response = self._call(
            method, path, scope=scope, json_body=json_body, params=params, idempotent=idempotent
        )
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            body = None
        if not isinstance(body, dict):
            raise error_for(
                retryable_problem(
                    "Unreadable response", response.status_code, "the answer is not a JSON object"
                ),
                f"{method} {path}",
            )
        return body

    def _call(
        self,
        method: str,
        path: str,
        *,
        scope: Scope = "member",
        json_body: Any = None,
        params: dict[str, Any] | None = None,
        idempotent: bool = True,
    ) -> requests.Response:
        """Send one request under the key's limit, retried per policy; raise the taxonomy's error."""
        context = f"{method} {path}"
        data = orjson.dumps(json_body) if json_body is not None else None
        try:
            response = self._transport.send(
                method,
                self.api_base + path,
                transient=transient_reason,
                slot=self.limiter.slot,
                counters=(self.stats,),
                idempotent=idempotent,
                params=params,
                data=data,
                headers={**_JSON, **self._auth_headers},
                auth=self._auth,
            )
        except RetryableFailure as failure:
            last = failure.response
            problem = (
                problem_from_body(
                    last.status_code, last.headers.get("Content-Type", ""), last.content, scope=scope
                )
                if last is not None
                else retryable_problem(failure.reason)
            )
            raise error_for(problem, f"{context} failed after {failure.attempts} attempt(s)") from None
        except requests.RequestException as exc:
            raise error_for(retryable_problem(type(exc).__name__), context) from None
        if response.status_code >= 400:
            problem = problem_from_body(
                response.status_code,
                response.headers.get("Content-Type", ""),
                response.content,
                scope=scope,
                request_id=response.headers.get("X-Request-Id"),
            )
            if problem.kind is ErrorKind.CONFIGURATION and response.status_code in (401, 403):
                fix = "check the API key (or OAuth token) and its data center"
                detail = f"{problem.detail} — {fix}" if problem.detail else fix
                raise error_for(replace(problem, detail=detail), context)
            if problem.kind is ErrorKind.CONFIGURATION and response.status_code == 404:
                detail = "list or resource not found — check the list id"
                raise error_for(replace(problem, detail=detail), context)
            raise error_for(problem, context)
        return response

    def _discover_api_base(self) -> str:
        """OAuth: ask the metadata endpoint which data center the token belongs to."""
        token = self.connection.secret.get_secret_value()
        try:
            response = self._transport.send(
                "GET",
                self.connection.metadata_url,
                transient=transient_reason,
                counters=(self.stats,),
                headers={"Authorization": f"OAuth {token}", "Accept": "application/json"},
            )
        except RetryableFailure as failure:
            raise error_for(retryable_problem(f"OAuth metadata: {failure.reason}")) from None
        if response.status_code != 200:
            raise configuration_error(
                f"the OAuth metadata endpoint refused the token (HTTP {response.status_code}): "
                "reconnect the account",
                response.status_code,
            )
        try:
            endpoint = orjson.loads(response.content)["api_endpoint"]
            return api_base_from_endpoint(str(endpoint))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValidationError):
            raise configuration_error("the OAuth metadata answer has no api_endpoint") from None

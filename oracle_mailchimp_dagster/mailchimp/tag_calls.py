"""Tags as static segments: read and create them, and tag many members with bulk segment calls."""

from collections.abc import Iterable, Mapping
from functools import partial
from typing import Any

from oracle_mailchimp_dagster.mailchimp.errors import (
    MailchimpConfigurationError,
    MailchimpProblem,
    MailchimpRecordError,
    error_for,
)
from oracle_mailchimp_dagster.mailchimp.models import TagChange, tag_key
from oracle_mailchimp_dagster.mailchimp.paging import MAX_PAGE, offset_pages
from oracle_mailchimp_dagster.mailchimp.parallel import in_parallel
from oracle_mailchimp_dagster.mailchimp.tagging import (
    SegmentCall,
    deleted_tag_problem,
    plan_tag_changes,
    segment_call_problems,
    segment_calls,
)
from oracle_mailchimp_dagster.mailchimp.wire import MailchimpWire

_SEGMENT_FIELDS = "segments.id,segments.name,total_items"


class TagCalls(MailchimpWire):
    """A list's tags (static segments), and tag changes of many members at once."""

    def tag_segments(self, list_id: str) -> dict[str, int]:
        """Every tag (static segment) of the list: name as Mailchimp spells it -> segment id."""

        def page(offset: int) -> dict[str, Any]:
            params = {"type": "static", "count": MAX_PAGE, "offset": offset, "fields": _SEGMENT_FIELDS}
            return self._json("GET", f"/lists/{list_id}/segments", scope="list", params=params)

        return {
            str(entry["name"]): int(entry["id"])
            for entries in offset_pages(page, "segments")
            for entry in entries
        }

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

"""Batch upserts (`POST /lists/{id}`): one batch, or any number of them in parallel."""

from collections.abc import Iterable, Iterator, Sequence
from functools import partial
from itertools import islice

from oracle_mailchimp_dagster.mailchimp.batch import batch_body, batch_outcomes, failed_batch_outcomes
from oracle_mailchimp_dagster.mailchimp.errors import MailchimpRecordError
from oracle_mailchimp_dagster.mailchimp.models import MemberOutcome, MemberUpsert
from oracle_mailchimp_dagster.mailchimp.parallel import in_parallel
from oracle_mailchimp_dagster.mailchimp.wire import MailchimpWire


class BatchCalls(MailchimpWire):
    """Upserts of many members: one outcome per member, whatever happens to its batch."""

    def upsert_batch(
        self, list_id: str, members: Sequence[MemberUpsert], *, skip_merge_validation: bool = False
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
        members: Iterable[MemberUpsert],
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
        self, list_id: str, batch: list[MemberUpsert], skip_merge_validation: bool
    ) -> list[MemberOutcome]:
        try:
            return self.upsert_batch(list_id, batch, skip_merge_validation=skip_merge_validation)
        except MailchimpRecordError as exc:
            return failed_batch_outcomes(batch, exc.problem)

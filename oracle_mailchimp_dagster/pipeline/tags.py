"""Apply managed-tag changes for many members at once."""

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from oracle_mailchimp_dagster.mailchimp import ErrorKind, MailchimpClient, MailchimpError, MailchimpProblem


@dataclass(frozen=True, slots=True)
class TagChange:
    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()


def apply_tag_changes(
    client: MailchimpClient, list_id: str, changes: Mapping[str, TagChange]
) -> dict[str, MailchimpProblem]:
    """Add and remove tags per address; returns the problem for each address that failed."""

    def one(email: str, change: TagChange) -> MailchimpProblem | None:
        try:
            client.update_tags(list_id, email, add=change.add, remove=change.remove)
        except MailchimpError as exc:
            if exc.kind is ErrorKind.CONFIGURATION:
                raise
            return exc.problem
        return None

    if not changes:
        return {}
    with ThreadPoolExecutor(
        max_workers=client.options.concurrency, thread_name_prefix="mailchimp-tags"
    ) as pool:
        futures = {email: pool.submit(one, email, change) for email, change in changes.items()}
        results = {email: future.result() for email, future in futures.items()}
    return {email: problem for email, problem in results.items() if problem is not None}

"""Mailchimp client: batch upserts, bulk tagging via static segments, member operations, error taxonomy."""

from oracle_mailchimp_dagster.mailchimp.client import MailchimpClient
from oracle_mailchimp_dagster.mailchimp.endpoints import data_center
from oracle_mailchimp_dagster.mailchimp.errors import (
    ErrorKind,
    FieldError,
    MailchimpComplianceError,
    MailchimpConfigurationError,
    MailchimpConflictError,
    MailchimpError,
    MailchimpInvalidDataError,
    MailchimpNotFoundError,
    MailchimpProblem,
    MailchimpRecordError,
    MailchimpRetryableError,
    MailchimpUnexpectedError,
    classify,
    email_change_refused_status,
)
from oracle_mailchimp_dagster.mailchimp.models import (
    AddressValue,
    AudienceList,
    ListMember,
    MemberChanges,
    MemberOutcome,
    MemberUpsert,
    MergeField,
    MergeFieldSpec,
    TagChange,
    list_fields_by_tag,
)
from oracle_mailchimp_dagster.mailchimp.settings import MailchimpClientOptions, MailchimpConnection

__all__ = [
    "AddressValue",
    "AudienceList",
    "ErrorKind",
    "FieldError",
    "ListMember",
    "MailchimpClient",
    "MailchimpClientOptions",
    "MailchimpComplianceError",
    "MailchimpConfigurationError",
    "MailchimpConflictError",
    "MailchimpConnection",
    "MailchimpError",
    "MailchimpInvalidDataError",
    "MailchimpNotFoundError",
    "MailchimpProblem",
    "MailchimpRecordError",
    "MailchimpRetryableError",
    "MailchimpUnexpectedError",
    "MemberChanges",
    "MemberOutcome",
    "MemberUpsert",
    "MergeField",
    "MergeFieldSpec",
    "TagChange",
    "classify",
    "data_center",
    "email_change_refused_status",
    "list_fields_by_tag",
]

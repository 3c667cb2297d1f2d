"""What a tenant's `status_if_new` means for campaigns and consent, in the words every onboarding path uses.

There is no silent default where a tenant is onboarded (`tenants add`, a new tenant in `tenants import`,
the demo): an ERP customer record is not marketing consent, so `subscribed` cannot be assumed, and the
safe `transactional` builds an audience nobody can send a campaign to. Whoever registers a tenant
chooses, and is told what the choice means. (The model keeps `transactional` as its default for
tenants built in code, and every stored tenant names its status.)
"""

from collections.abc import Mapping
from typing import Any

from oracle_mailchimp_dagster.sync.rules import StatusIfNew
from oracle_mailchimp_dagster.tenants.errors import TenantConfigError
from oracle_mailchimp_dagster.tenants.model import TenantPolicy

# Where an import file states it.
STATUS_KEY = "policy.status_if_new"

# Each status, as said in `--status-if-new`'s help, its refusal and the demo's line.
MEANINGS: dict[StatusIfNew, str] = {
    StatusIfNew.TRANSACTIONAL: (
        "an ERP record is not marketing consent: contacts are added but cannot receive campaigns"
    ),
    StatusIfNew.SUBSCRIBED: "only when you hold marketing consent: they receive campaigns",
    StatusIfNew.PENDING: (
        "Mailchimp emails each a double opt-in confirmation; they receive campaigns once they confirm"
    ),
}
# The status only applies when the sync creates a member.
EXISTING_KEEP = "members already in the audience keep their status"


def choices() -> str:
    """`transactional (...), subscribed (...), pending (...)`: every status and what it means."""
    return ", ".join(f"{status.value} ({meaning})" for status, meaning in MEANINGS.items())


def status_required(subject: str, where: str) -> str:
    """The one-line refusal when `where` (a flag or YAML key) was not given for a new tenant."""
    return f"{subject}: choose the status of new members with {where}: {choices()}; {EXISTING_KEEP}"


def status_line(status: StatusIfNew) -> str:
    """`new members join as transactional: an ERP record is not ...`: what a tenant's choice means."""
    return f"new members join as {status.value}: {MEANINGS[status]}"


class StatusNotStated(TenantConfigError):
    """Tenants new to the registry whose import entry does not state `policy.status_if_new`."""

    def __init__(self, tenant_ids: list[str]) -> None:
        self.tenant_ids = tenant_ids
        names = ", ".join(f"'{tenant}'" for tenant in tenant_ids)
        subject = f"new tenant{'s' if len(tenant_ids) > 1 else ''} {names}"
        super().__init__(status_required(subject, f"{STATUS_KEY} in the file"))


def stored_status(stored_config: Mapping[str, Any]) -> StatusIfNew:
    """The status a stored tenant config names (the model's default if it names none or no known one)."""
    policy = stored_config.get("policy")
    value = policy.get("status_if_new") if isinstance(policy, Mapping) else None
    try:
        return StatusIfNew(str(value))
    except ValueError:
        default: StatusIfNew = TenantPolicy.model_fields["status_if_new"].default
        return default

"""Dagster resources that hand the assets an in-memory double instead of a client on HTTP.

The double is a nested resource dependency (`ResourceDependency`): a plain object a
ConfigurableResource may hold, passed through as is, so the test keeps the very object the run
writes to and asserts on it afterwards.
"""

from dagster import ResourceDependency

from oracle_mailchimp_dagster.defs.resources import FusionResource, MailchimpResource
from oracle_mailchimp_dagster.pipeline.ports import AudienceClient, CustomerSource
from oracle_mailchimp_dagster.tenants.model import TenantConfig
from oracle_mailchimp_dagster.tenants.registry import TenantRegistry
from tests.support.doubles.audience import InMemoryAudience
from tests.support.doubles.fusion import InMemoryFusion


class InMemoryFusionResource(FusionResource):
    """Every tenant reads the same `InMemoryFusion`."""

    double: ResourceDependency[InMemoryFusion]

    def client(self, tenant: TenantConfig, registry: TenantRegistry) -> CustomerSource:
        return self.double


class InMemoryAudienceResource(MailchimpResource):
    """Every tenant writes the same `InMemoryAudience`."""

    double: ResourceDependency[InMemoryAudience]

    def client(self, tenant: TenantConfig, registry: TenantRegistry) -> AudienceClient:
        return self.double

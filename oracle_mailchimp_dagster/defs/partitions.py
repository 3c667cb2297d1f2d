"""One partition per tenant, kept in step with the tenant registry by a sensor."""

import dagster as dg

TENANTS = "tenants"
tenant_partitions = dg.DynamicPartitionsDefinition(name=TENANTS)

"""Alerts to each tenant's webhook and freshness checks per tenant (issue 11)."""

import dagster as dg

SENSORS: list[dg.SensorDefinition] = []
CHECKS: list[dg.AssetChecksDefinition] = []

"""Mailchimp audience events (unsubscribes, cleaned) read in runs, requested by a sensor (issue 11)."""

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from oracle_mailchimp_dagster.defs.sensors import mailchimp_audience_events_sensor

ASSETS: list[dg.AssetsDefinition] = []
JOBS: list[dg.JobDefinition | UnresolvedAssetJobDefinition] = []
SENSORS: list[dg.SensorDefinition] = [mailchimp_audience_events_sensor]

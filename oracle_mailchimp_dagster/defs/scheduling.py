"""Scheduling that follows the tenant registry without a reload (filled in by issue 11)."""

import dagster as dg

from oracle_mailchimp_dagster.defs.schedules import build_schedules

SENSORS: list[dg.SensorDefinition] = []
SCHEDULES: list[dg.ScheduleDefinition] = build_schedules()

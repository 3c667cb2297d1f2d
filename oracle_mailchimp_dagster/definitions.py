"""The single Dagster Definitions of the connector (`dagster dev -w workspace.yaml`)."""

from oracle_mailchimp_dagster.defs.build import build_definitions

defs = build_definitions()

"""Trying it locally: the demo (sandbox + two real Dagster runs) and `dev` (sandbox + dagster dev)."""

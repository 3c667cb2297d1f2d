"""The thin Dagster layer: partitions, resources, assets, checks, sensors and schedules."""

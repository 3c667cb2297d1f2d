"""Run config of the plan step: how many customers a chunk holds (what one commit settles)."""

import dagster as dg
from pydantic import Field

from oracle_mailchimp_dagster.pipeline.plan import DEFAULT_CHUNK_SIZE


class PlanConfig(dg.Config):
    """`chunk_size`: customers planned, sent and committed together. Smaller chunks lose less to a
    killed run (what it had not committed is sent again) and commit more often; a group of customers
    sharing an address is never split, so a chunk may exceed it."""

    chunk_size: int = Field(default=DEFAULT_CHUNK_SIZE, ge=1, le=100_000)

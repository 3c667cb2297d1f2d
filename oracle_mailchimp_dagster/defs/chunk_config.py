"""Run config of the chunked steps: customers a chunk holds (what one commit settles), and how many
chunks the results step sends at once."""

import dagster as dg
from pydantic import Field

from oracle_mailchimp_dagster.defs.run_config import ResultsConfig
from oracle_mailchimp_dagster.pipeline.apply import CHUNKS_IN_FLIGHT
from oracle_mailchimp_dagster.pipeline.plan import default_chunk_size


class PlanConfig(dg.Config):
    """`chunk_size`: customers planned, sent and committed together. Smaller chunks lose less to a
    killed run (what it had not committed is sent again) and commit more often; a group of customers
    sharing an address is never split, so a chunk may exceed it. Default: ORACLE_MAILCHIMP_CHUNK_SIZE,
    else 2,000."""

    chunk_size: int | None = Field(default=None, ge=1, le=100_000)

    def resolved_chunk_size(self) -> int:
        return self.chunk_size or default_chunk_size()


class ChunkedResultsConfig(ResultsConfig):
    """`chunks_in_flight`: chunks sent to Mailchimp at once (one's writes overlap another's tags and
    commit; each chunk's own requests stay within the client's concurrency, and all of them within the
    key's limits). More keep the connections busier and leave more sent but unsettled if the run dies."""

    chunks_in_flight: int = Field(default=CHUNKS_IN_FLIGHT, ge=1, le=8)

"""Latency models: `none` for tests, `realistic` for the demo and benchmarks."""

import asyncio
from typing import Literal

from pydantic import BaseModel, Field

LatencyProfile = Literal["none", "realistic"]


class LatencyModel(BaseModel):
    """Delay added to each served request: fixed, per returned row, and growing with offset."""

    request_ms: float = Field(default=0.0, ge=0)
    per_item_ms: float = Field(default=0.0, ge=0)
    per_1000_offset_ms: float = Field(default=0.0, ge=0)
    token_ms: float = Field(default=0.0, ge=0)

    def request_delay_s(self, items: int = 0, offset: int = 0) -> float:
        ms = self.request_ms + self.per_item_ms * items + self.per_1000_offset_ms * offset / 1000
        return ms / 1000.0

    async def wait(self, items: int = 0, offset: int = 0) -> None:
        delay = self.request_delay_s(items, offset)
        if delay > 0:
            await asyncio.sleep(delay)

    async def wait_token(self) -> None:
        if self.token_ms > 0:
            await asyncio.sleep(self.token_ms / 1000.0)

"""In-memory doubles of the two API clients, the resources that hand them to the assets, and a way to
materialize the assets on them for one tenant (values kept between runs in `InMemoryValues`)."""

from tests.support.doubles.audience import AudienceCall, InMemoryAudience, StoredMember
from tests.support.doubles.fusion import FusionCall, InMemoryCustomerStream, InMemoryFusion
from tests.support.doubles.records import fusion_customer
from tests.support.doubles.resources import InMemoryAudienceResource, InMemoryFusionResource
from tests.support.doubles.runs import AssetRuns, metadata
from tests.support.doubles.values import InMemoryValues

__all__ = [
    "AssetRuns",
    "AudienceCall",
    "FusionCall",
    "InMemoryAudience",
    "InMemoryAudienceResource",
    "InMemoryCustomerStream",
    "InMemoryFusion",
    "InMemoryFusionResource",
    "InMemoryValues",
    "StoredMember",
    "fusion_customer",
    "metadata",
]

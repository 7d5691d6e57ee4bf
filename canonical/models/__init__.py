from canonical.models.changes import ChangeEvent
from canonical.models.clients import Client
from canonical.models.contracts import Contract
from canonical.models.crosswalk import SourceRecord
from canonical.models.engagements import Engagement, Milestone
from canonical.models.glossary import GlossaryTerm
from canonical.models.matching import (
    MatchClaim,
    MatchCommonName,
    MatchConfiguration,
    MatchDecision,
    MatchKey,
    MatchRecord,
    NotAMatch,
    PotentialMatch,
)
from canonical.models.revenue import RevenueEvent
from canonical.models.systems import ConnectedSystem

__all__ = [
    "ChangeEvent", "Client", "ConnectedSystem", "Contract", "Engagement", "GlossaryTerm", "MatchClaim",
    "MatchCommonName", "MatchConfiguration", "MatchDecision", "MatchKey", "MatchRecord", "Milestone", "NotAMatch",
    "PotentialMatch", "RevenueEvent", "SourceRecord",
]

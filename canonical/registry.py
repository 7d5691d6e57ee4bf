"""Entity types and their golden-record models, in one explicit table."""

from django.db import models

from canonical.choices import EntityType
from canonical.models import Client, Contract, Engagement, Milestone, RevenueEvent

MODELS: dict[str, type[models.Model]] = {
    EntityType.CLIENT: Client,
    EntityType.ENGAGEMENT: Engagement,
    EntityType.MILESTONE: Milestone,
    EntityType.CONTRACT: Contract,
    EntityType.REVENUE_EVENT: RevenueEvent,
}

GOLDEN_ID_PREFIXES: dict[str, str] = {model.GOLDEN_PREFIX: entity for entity, model in MODELS.items()}


def model_for(entity_type: str) -> type[models.Model]:
    try:
        return MODELS[entity_type]
    except KeyError:
        raise ValueError(f"Unknown entity type {entity_type!r}; expected one of {', '.join(MODELS)}") from None


def entity_type_for_golden_id(golden_id: str) -> str | None:
    return GOLDEN_ID_PREFIXES.get(golden_id.split("-", 1)[0].upper())

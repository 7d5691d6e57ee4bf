"""API scopes: what a consuming system's token may read or do. One scope per resource or action."""

READ_CLIENTS = "read:clients"
READ_ENGAGEMENTS = "read:engagements"
READ_CONTRACTS = "read:contracts"
READ_REVENUE_EVENTS = "read:revenue_events"
READ_GLOSSARY = "read:glossary"
READ_SYSTEMS = "read:systems"
STEWARD_READ = "steward:read"
STEWARD_WRITE = "steward:write"
MATCH_RULES_WRITE = "match_rules:write"
SYNC_READ = "sync:read"
SYNC_REPLAY = "sync:replay"

ALL = {
    READ_CLIENTS: "Client golden records, their sources, history and changes",
    READ_ENGAGEMENTS: "Engagements and milestones, their sources, history and changes",
    READ_CONTRACTS: "Contracts (MSA, SOW, change orders), their sources, history and changes",
    READ_REVENUE_EVENTS: "Revenue events, their sources and changes",
    READ_GLOSSARY: "The business glossary",
    READ_SYSTEMS: "The list of connected systems",
    STEWARD_READ: "Steward tasks, potential matches, match decisions and match rules",
    STEWARD_WRITE: "Merge, unmerge, not-a-match; claiming, deciding and commenting on steward tasks",
    MATCH_RULES_WRITE: "Dry-run and apply changes to match rules",
    SYNC_READ: "Outbound deliveries (attempts, the platform's answers, dead letters) and circuit breakers",
    SYNC_REPLAY: "Replay dead-lettered deliveries",
}

# The scope that guards each entity type (used by the change feed and crosswalk lookups).
BY_ENTITY_TYPE = {
    "client": READ_CLIENTS,
    "engagement": READ_ENGAGEMENTS,
    "milestone": READ_ENGAGEMENTS,
    "contract": READ_CONTRACTS,
    "revenue_event": READ_REVENUE_EVENTS,
}

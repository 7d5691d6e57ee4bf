"""Choices of the canonical model."""

from django.db import models


class EntityType(models.TextChoices):
    CLIENT = "client", "Client"
    ENGAGEMENT = "engagement", "Engagement"
    MILESTONE = "milestone", "Milestone"
    CONTRACT = "contract", "Contract"
    REVENUE_EVENT = "revenue_event", "Revenue event"


class SystemKind(models.TextChoices):
    SALESFORCE = "salesforce", "Salesforce (CRM)"
    CERTINIA = "certinia", "Certinia (PSA)"
    KANTATA = "kantata", "Kantata (PSA)"
    NETSUITE = "netsuite", "NetSuite (ERP)"
    DYNAMICS365 = "dynamics365", "Dynamics 365 (ERP)"
    ANAPLAN = "anaplan", "Anaplan (FP&A)"
    ADAPTIVE_PLANNING = "adaptive_planning", "Adaptive Planning (FP&A)"


class ClientStatus(models.TextChoices):
    PROSPECT = "prospect", "Prospect"
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"


class EngagementType(models.TextChoices):
    TIME_AND_MATERIALS = "time_and_materials", "Time and materials"
    FIXED_FEE = "fixed_fee", "Fixed fee"
    RETAINER = "retainer", "Retainer"


class EngagementStatus(models.TextChoices):
    PIPELINE = "pipeline", "Pipeline"
    ACTIVE = "active", "Active"
    ON_HOLD = "on_hold", "On hold"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class MilestoneStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    INVOICED = "invoiced", "Invoiced"


class ContractKind(models.TextChoices):
    MSA = "msa", "Master services agreement"
    SOW = "sow", "Statement of work"
    CHANGE_ORDER = "change_order", "Change order"


class ContractStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    TERMINATED = "terminated", "Terminated"


class RevenueEventKind(models.TextChoices):
    BOOKING = "booking", "Booking"
    CHANGE_ORDER = "change_order", "Change order"
    MILESTONE_COMPLETED = "milestone_completed", "Milestone completed"
    TIME_EXPENSE_APPROVED = "time_expense_approved", "Time/expense approved"
    INVOICE_ISSUED = "invoice_issued", "Invoice issued"
    PAYMENT_RECEIVED = "payment_received", "Payment received"
    REVENUE_RECOGNISED = "revenue_recognised", "Revenue recognised"
    FORECAST_REVISED = "forecast_revised", "Forecast revised"


class ChangeOperation(models.TextChoices):
    CREATED = "created", "Created"
    UPDATED = "updated", "Updated"
    MERGED = "merged", "Merged into another record"
    DEACTIVATED = "deactivated", "Deactivated"


class GlossaryDomain(models.TextChoices):
    SALES = "sales", "Sales"
    DELIVERY = "delivery", "Delivery"
    FINANCE = "finance", "Finance"


class GlossaryStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    APPROVED = "approved", "Approved"
    DEPRECATED = "deprecated", "Deprecated"


class MatchOutcome(models.TextChoices):
    DETERMINISTIC = "deterministic", "Matched by a deterministic rule"
    AUTO_MATCH = "auto_match", "Matched above the match threshold"
    REVIEW = "review", "Grey zone: new golden record, potential match opened"
    NEW = "new", "No match: new golden record"
    STEWARD_MERGE = "steward_merge", "Moved by a steward's merge"
    STEWARD_UNMERGE = "steward_unmerge", "Moved by a steward's unmerge"
    REMATCH = "rematch", "Moved by a batch re-match"


class PotentialMatchStatus(models.TextChoices):
    OPEN = "open", "Open"
    DEFERRED = "deferred", "Deferred"
    MERGED = "merged", "Merged"
    NOT_A_MATCH = "not_a_match", "Not a match"
    SUPERSEDED = "superseded", "Superseded"

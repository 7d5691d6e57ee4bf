"""The shipped data-quality rules, per entity (editable in the admin). They run from the queue sweep, which
follows the change feed, and on demand (manage.py check_quality)."""

from django.db import migrations

STARTED = ["active", "on_hold", "completed"]
DOMAIN = r"(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"

# (code, entity type, kind, attribute, params, priority, name, description)
DATA_QUALITY_RULES = [
    ("client-currency-required", "client", "required", "currency", {}, 3, "Client currency required",
     "The ERP invoices a client in its currency. (A legal name needs no rule: a client cannot exist without one.)"),
    ("client-country-required", "client", "required", "country", {}, 3, "Client country required",
     "The country decides the tax scheme, the legal entity that bills and the reporting region."),
    ("client-country-iso", "client", "reference", "country", {"reference": "iso_country"}, 3,
     "Client country: ISO code", "ISO 3166-1 alpha-2, e.g. GB, US, DE."),
    ("client-billing-country-iso", "client", "reference", "billing_country", {"reference": "iso_country"}, 3,
     "Client billing country: ISO code", "ISO 3166-1 alpha-2, e.g. GB, US, DE."),
    ("client-currency-iso", "client", "reference", "currency", {"reference": "iso_currency"}, 3,
     "Client currency: ISO code", "ISO 4217, e.g. GBP, USD, EUR."),
    ("client-tax-id-checksum", "client", "checksum", "tax_id", {"country_attribute": "country"}, 4,
     "Client tax id checksum",
     "A tax id that is present must pass the check of its scheme: the VAT number of its prefix, or the national "
     "number of the client's country (EIN, ABN, UEN...). A number no scheme applies to is not flagged. Low "
     "priority: the ERP holds many numbers typed by hand, and fixing them is housekeeping."),
    ("client-website-domain-format", "client", "format", "website_domain",
     {"pattern": DOMAIN, "hint": "a bare domain name such as acme.com"}, 4, "Client website: domain format",
     "Matching compares websites as bare lower-case domains."),
    ("client-has-active-source", "client", "has_active_source", "", {}, 2, "Client without an active source",
     "Every platform deleted its copy: the hub marked the client inactive rather than remove it. Decide whether "
     "it is gone for good, or re-link it."),
    ("engagement-code-when-started", "engagement", "required", "code", {"when": {"status": STARTED}}, 3,
     "Started engagement: project code required",
     "Once work starts the PSA assigns the firm's project code; time and invoices are booked against it."),
    ("engagement-start-date-when-started", "engagement", "required", "start_date", {"when": {"status": STARTED}}, 3,
     "Started engagement: start date required", "Revenue recognition and resourcing need the start date."),
    ("engagement-currency-iso", "engagement", "reference", "currency", {"reference": "iso_currency"}, 3,
     "Engagement currency: ISO code", "ISO 4217, e.g. GBP, USD, EUR."),
    ("engagement-has-signed-contract", "engagement", "engagement_has_signed_contract", "contracts",
     {"when": {"status": ["active", "on_hold"]}, "contract_statuses": ["signed", "active"],
      "contract_kinds": ["sow", "change_order"]}, 2, "Active engagement without a signed contract",
     "Work under way needs a signed (or active) statement of work: without one, the firm works at risk."),
    ("engagement-milestones-sum-to-fixed-fee", "engagement", "milestones_sum_to_fixed_fee", "budget_amount",
     {"when": {"engagement_type": ["fixed_fee"]}, "tolerance": "0.01"}, 2,
     "Fixed-fee milestones must sum to the fee",
     "A fixed-fee engagement bills its fee through its milestones: their amounts must add up to the engagement's "
     "budget (the fee), in its currency, to the cent."),
    ("engagement-has-active-source", "engagement", "has_active_source", "", {}, 2,
     "Engagement without an active source", "Every platform deleted its copy; the hub kept the record for a steward."),
    ("milestone-completed-date-when-completed", "milestone", "required", "completed_date",
     {"when": {"status": ["completed", "invoiced"]}}, 3, "Completed milestone: completion date required",
     "Billing and the unbilled-milestone check count from the completion date."),
    ("milestone-currency-iso", "milestone", "reference", "currency", {"reference": "iso_currency"}, 3,
     "Milestone currency: ISO code", "ISO 4217, e.g. GBP, USD, EUR."),
    ("milestone-has-active-source", "milestone", "has_active_source", "", {}, 2, "Milestone without an active source",
     "Every platform deleted its copy; the hub kept the record for a steward."),
    ("contract-number-required", "contract", "required", "number", {}, 3, "Contract number required",
     "Finance and the client refer to a contract by its number."),
    ("contract-value-when-sow", "contract", "required", "value_amount",
     {"when": {"kind": ["sow", "change_order"]}}, 2, "SOW or change order: value required",
     "Bookings, billing and revenue recognition start from the contract value."),
    ("contract-signed-date-when-signed", "contract", "required", "signed_date",
     {"when": {"status": ["signed", "active"]}}, 3, "Signed contract: signature date required",
     "A contract in force records when the client signed it."),
    ("contract-signed-before-end", "contract", "cross_field", "signed_date", {"op": "<=", "other": "end_date"}, 3,
     "Contract signed on or before its end date",
     "A signature date after the end date is a typing error in one of the two. (End before start is refused by "
     "the database itself, so needs no rule.)"),
    ("contract-currency-iso", "contract", "reference", "currency", {"reference": "iso_currency"}, 3,
     "Contract currency: ISO code", "ISO 4217, e.g. GBP, USD, EUR."),
    ("contract-change-orders-sum-to-revised-value", "contract", "change_orders_sum_to_revised", "value_amount",
     {"tolerance": "0.01"}, 2, "Change orders must sum to the revised value",
     "The hub holds no separate revised value, so the revised value is what was sold: the contract's booking plus "
     "its change orders' bookings (revenue events of kinds booking and change_order). The contract's value plus "
     "its change orders' values must add up to it. Checked once a contract has change orders and bookings."),
    ("contract-has-active-source", "contract", "has_active_source", "", {}, 2, "Contract without an active source",
     "Every platform deleted its copy; the hub kept the record for a steward."),
    ("revenue-event-currency-iso", "revenue_event", "reference", "currency", {"reference": "iso_currency"}, 3,
     "Revenue event currency: ISO code", "ISO 4217, e.g. GBP, USD, EUR."),
]


def seed(apps, schema_editor):
    DataQualityRule = apps.get_model("stewardship", "DataQualityRule")
    for code, entity_type, kind, attribute, params, priority, name, description in DATA_QUALITY_RULES:
        DataQualityRule.objects.get_or_create(code=code, defaults={
            "entity_type": entity_type, "kind": kind, "attribute": attribute, "params": params,
            "priority": priority, "name": name, "description": description,
        })


def unseed(apps, schema_editor):
    apps.get_model("stewardship", "DataQualityRule").objects.filter(
        code__in=[rule[0] for rule in DATA_QUALITY_RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("stewardship", "0002_seed_slas_and_schedule")]
    operations = [migrations.RunPython(seed, unseed)]

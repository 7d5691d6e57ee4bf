"""Demo clients: a few corporate groups with subsidiaries abroad, and standalone companies.

Each client is a Salesforce ``Account`` (display name, short legal name, website, industry, sometimes
an outdated address), a NetSuite ``customer`` (full legal name, tax id, billing address) and a
Certinia ``Account`` (the PSA's copy its projects point at).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date

from canonical.demo.platforms import PlatformIds, moment, ns_time, ref, sf_attributes, sf_time
from canonical.demo.records import TODAY, GoldenSpec, SourceCopy
from canonical.demo.schedule import random_day
from canonical.demo.vocabulary import BRANDS, COUNTRIES, COUNTRY_WEIGHTS, SECTORS, Country, fill


@dataclass(frozen=True)
class Address:
    street: str
    city: str
    region: str
    postcode: str
    country: str


@dataclass(frozen=True)
class ClientPlan:
    key: str
    display_name: str
    legal_name: str  # as the ERP holds it
    crm_legal_name: str
    parent: str | None
    country: str
    currency: str
    domain: str
    erp_domain: str  # usually the same; sometimes an old domain the ERP never updated
    tax_id: str
    address: Address
    crm_address: Address  # sometimes outdated
    industry: str
    payment_terms: str
    customer_since: date
    salesforce_id: str
    certinia_id: str
    netsuite_id: str
    entity_number: str


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _address(rng: random.Random, country: Country) -> Address:
    city = rng.choice(country.cities)
    street = country.street_format.format(
        n=rng.randint(1, 240), street=rng.choice(city.streets), unit=rng.randint(2, 40), n2=rng.randint(1, 9)
    )
    return Address(street, city.name, city.region, fill(rng, city.postcode), country.code)


def _countries(rng: random.Random, count: int) -> list[str]:
    codes = list(COUNTRY_WEIGHTS)[:count]
    codes += rng.choices(list(COUNTRY_WEIGHTS), weights=list(COUNTRY_WEIGHTS.values()), k=max(0, count - len(codes)))
    rng.shuffle(codes)
    return codes


class _Names:
    """Unique (brand, sector) company names; a country's own brands are used first."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._taken: set[tuple[str, str]] = set()
        self._brands_used: set[str] = set()

    def brand(self, country: Country) -> str:
        fresh = [b for b in (*country.brands, *BRANDS) if b not in self._brands_used]
        brand = self._rng.choice(fresh[:8]) if fresh else self._rng.choice(BRANDS)
        self._brands_used.add(brand)
        return brand

    def company(self, country: Country) -> tuple[str, str]:
        brand = self.brand(country)
        sector, industry = self._rng.choice(SECTORS)
        while (brand, sector) in self._taken:
            sector, industry = self._rng.choice(SECTORS)
        self._taken.add((brand, sector))
        return f"{brand} {sector}", industry


def plan_clients(rng: random.Random, ids: PlatformIds, count: int) -> list[ClientPlan]:
    """``count`` clients, parents listed before their subsidiaries."""
    groups = count // 12 if count >= 12 else 0
    countries = _countries(rng, count)
    names = _Names(rng)
    plans: list[ClientPlan] = []

    def add(display: str, legal_base: str, industry: str, code: str, parent: str | None, domain: str) -> ClientPlan:
        country = COUNTRIES[code]
        full_form, short_form = rng.choice(country.legal_forms)
        address = _address(rng, country)
        crm_address = address
        if rng.random() < 0.2:  # the CRM still has the address from before the client moved
            crm_address = _address(rng, country)
        erp_domain = domain if rng.random() > 0.15 else f"{domain.split('.')[0]}.com"
        plan = ClientPlan(
            key=f"client-{len(plans) + 1:03d}", display_name=display, legal_name=f"{legal_base} {full_form}",
            crm_legal_name=f"{legal_base} {short_form}", parent=parent, country=code, currency=country.currency,
            domain=domain, erp_domain=erp_domain, tax_id=fill(rng, country.tax_id), address=address,
            crm_address=crm_address, industry=industry, payment_terms=rng.choice(("Net 30", "Net 30", "Net 45")),
            customer_since=random_day(rng, date(2016, 1, 1), date(2025, 6, 30)),
            salesforce_id=ids.salesforce("salesforce", "Account"), certinia_id=ids.salesforce("certinia", "Account"),
            netsuite_id=ids.netsuite("customer"), entity_number=f"CUST{ids.number('customer', 1000, 2000)}",
        )
        plans.append(plan)
        return plan

    for _ in range(groups):
        code = countries.pop()
        brand = names.brand(COUNTRIES[code])
        sector, industry = rng.choice(SECTORS)
        slug = _slug(brand).replace("-", "")
        parent = add(f"{brand} Group", f"{brand} Group", industry, code, None, f"{slug}group.com")
        used = [code]
        for _ in range(2):  # two subsidiaries, each in another country
            abroad = [i for i, c in enumerate(countries) if c not in used]
            sub_code = countries.pop(rng.choice(abroad) if abroad else -1)
            used.append(sub_code)
            country = COUNTRIES[sub_code]
            name = f"{brand} {country.label}"
            add(name, f"{brand} {sector} {country.label}" if rng.random() < 0.3 else name, industry, sub_code,
                parent.key, f"{slug}.{country.tld}")
    while countries:
        code = countries.pop()
        display, industry = names.company(COUNTRIES[code])
        separator = rng.choice(("", "-"))
        add(display, display, industry, code, None, f"{_slug(display).replace('-', separator)}.{COUNTRIES[code].tld}")
    return plans


def client_record(rng: random.Random, plan: ClientPlan, parent: ClientPlan | None) -> GoldenSpec:
    country = COUNTRIES[plan.country]
    sf_at = moment(rng, random_day(rng, date(2026, 1, 5), TODAY))
    ns_at = moment(rng, random_day(rng, date(2026, 1, 5), TODAY))
    crm = plan.crm_address
    sf_payload = {
        "attributes": sf_attributes("Account", plan.salesforce_id), "Id": plan.salesforce_id,
        "Name": plan.display_name, "Legal_Name__c": plan.crm_legal_name, "Type": "Customer",
        "ParentId": parent.salesforce_id if parent else None, "Industry": plan.industry,
        "Website": f"https://www.{plan.domain}", "BillingStreet": crm.street, "BillingCity": crm.city,
        "BillingState": crm.region or None, "BillingPostalCode": crm.postcode, "BillingCountry": country.name,
        "BillingCountryCode": plan.country, "CurrencyIsoCode": plan.currency, "IsDeleted": False,
        "CreatedDate": sf_time(moment(rng, plan.customer_since)), "SystemModstamp": sf_time(sf_at),
    }
    sf_attrs = {
        "legal_name": plan.crm_legal_name, "display_name": plan.display_name,
        "parent": ref("Account", parent.salesforce_id) if parent else None, "website_domain": plan.domain,
        "country": plan.country, "billing_street": crm.street, "billing_city": crm.city,
        "billing_region": crm.region, "billing_postcode": crm.postcode, "billing_country": plan.country,
        "industry": plan.industry, "currency": plan.currency, "status": "active",
    }
    address = plan.address
    ns_payload = {
        "id": plan.netsuite_id, "entityId": plan.entity_number, "companyName": plan.legal_name,
        "isPerson": False, "isInactive": False, "parent": {"id": parent.netsuite_id} if parent else None,
        "url": f"http://{plan.erp_domain}", "vatRegNumber": plan.tax_id, "currency": {"refName": plan.currency},
        "terms": {"refName": plan.payment_terms}, "subsidiary": {"id": "1"},
        "addressBook": {"items": [{"defaultBilling": True, "addressBookAddress": {
            "addressee": plan.legal_name, "addr1": address.street, "city": address.city, "state": address.region,
            "zip": address.postcode, "country": {"id": plan.country}}}]},
        "dateCreated": ns_time(moment(rng, plan.customer_since)), "lastModifiedDate": ns_time(ns_at),
    }
    ns_attrs = {
        "legal_name": plan.legal_name, "parent": ref("customer", parent.netsuite_id) if parent else None,
        "website_domain": plan.erp_domain, "tax_id": plan.tax_id, "country": plan.country,
        "billing_street": address.street, "billing_city": address.city, "billing_region": address.region,
        "billing_postcode": address.postcode, "billing_country": plan.country, "currency": plan.currency,
        "status": "active",
    }
    psa_at = moment(rng, random_day(rng, date(2025, 10, 1), TODAY))
    psa_payload = {
        "attributes": sf_attributes("Account", plan.certinia_id), "Id": plan.certinia_id,
        "Name": plan.display_name, "Website": plan.domain, "BillingCountry": country.name,
        "CurrencyIsoCode": plan.currency, "SystemModstamp": sf_time(psa_at),
    }
    psa_attrs = {"display_name": plan.display_name, "website_domain": plan.domain, "country": plan.country,
                 "currency": plan.currency}
    if plan.tax_id[:2] == plan.country and rng.random() < 0.4:
        # Some reps keep the VAT number on the account too, spaced as printed on the invoice.
        digits = plan.tax_id[2:]
        sf_payload["VAT_Number__c"] = " ".join([plan.country, *(digits[i:i + 3] for i in range(0, len(digits), 3))])
        sf_attrs["tax_id"] = sf_payload["VAT_Number__c"]
    return GoldenSpec("client", plan.key, (
        SourceCopy("salesforce", "Account", plan.salesforce_id, sf_attrs, sf_payload, sf_at),
        SourceCopy("netsuite", "customer", plan.netsuite_id, ns_attrs, ns_payload, ns_at),
        SourceCopy("certinia", "Account", plan.certinia_id, psa_attrs, psa_payload, psa_at),
    ))

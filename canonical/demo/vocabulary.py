"""Word lists the demo builds names, addresses and tax ids from. Plain data, no logic beyond formats."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class City:
    name: str
    region: str
    # Postcode pattern: "#" is a digit, "@" a capital letter, anything else is kept.
    postcode: str
    streets: tuple[str, ...]


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    label: str  # how a subsidiary there is named: "Meridian Deutschland"
    currency: str
    tld: str
    # (as the ERP records the legal form, as the CRM shortens it)
    legal_forms: tuple[tuple[str, str], ...]
    street_format: str
    cities: tuple[City, ...]
    tax_id: str  # same pattern language as postcodes
    brands: tuple[str, ...] = ()


COUNTRIES: dict[str, Country] = {c.code: c for c in (
    Country(
        "GB", "United Kingdom", "UK", "GBP", "co.uk",
        (("Limited", "Ltd"), ("Limited", "Ltd"), ("PLC", "plc")),
        "{n} {street}",
        (City("London", "Greater London", "EC2A #@@", ("Bishopsgate", "Cheapside", "Moorgate", "King William Street")),
         City("Manchester", "Greater Manchester", "M# #@@", ("Deansgate", "King Street", "Spring Gardens")),
         City("Edinburgh", "City of Edinburgh", "EH# #@@", ("George Street", "Lothian Road", "Queen Street")),
         City("Bristol", "Bristol", "BS# #@@", ("Victoria Street", "Temple Way", "Queen Square"))),
        "GB#########", ("Harbourside", "Thornbury", "Ashford", "Highgate", "Wexford"),
    ),
    Country(
        "US", "United States", "US", "USD", "com",
        (("Inc.", "Inc"), ("LLC", "LLC"), ("Corporation", "Corp.")),
        "{n} {street}, Suite {unit}",
        (City("New York", "NY", "100##", ("Fifth Avenue", "Park Avenue", "Madison Avenue")),
         City("Chicago", "IL", "606##", ("Wacker Drive", "LaSalle Street", "Michigan Avenue")),
         City("Austin", "TX", "787##", ("Congress Avenue", "Lavaca Street")),
         City("Boston", "MA", "021##", ("Boylston Street", "Federal Street", "State Street")),
         City("San Francisco", "CA", "941##", ("Market Street", "Mission Street", "California Street"))),
        "##-#######", ("Lakeshore", "Redwood", "Pinnacle", "Summit", "Westbrook"),
    ),
    Country(
        "DE", "Germany", "Deutschland", "EUR", "de",
        (("GmbH", "GmbH"), ("AG", "AG")),
        "{street} {n}",
        (City("Berlin", "Berlin", "10###", ("Friedrichstraße", "Unter den Linden", "Potsdamer Platz")),
         City("München", "Bayern", "80###", ("Maximilianstraße", "Leopoldstraße", "Arnulfstraße")),
         City("Hamburg", "Hamburg", "20###", ("Jungfernstieg", "Ballindamm", "Große Elbstraße")),
         City("Frankfurt am Main", "Hessen", "60###", ("Mainzer Landstraße", "Taunusanlage", "Neue Mainzer Straße"))),
        "DE#########", ("Rheinwerk", "Nordstern", "Lindenhof", "Elbtal", "Falkenberg"),
    ),
    Country(
        "FR", "France", "France", "EUR", "fr",
        (("SAS", "SAS"), ("SA", "S.A.")),
        "{n} {street}",
        (City("Paris", "Île-de-France", "750##", ("rue de la Paix", "boulevard Haussmann", "avenue de l'Opéra")),
         City("Lyon", "Auvergne-Rhône-Alpes", "6900#", ("rue de la République", "quai Jules Courmont")),
         City("Lille", "Hauts-de-France", "59000", ("rue Nationale", "boulevard de la Liberté"))),
        "FR###########", ("Belleville", "Montclair", "Valmont", "Rivage"),
    ),
    Country(
        "NL", "Netherlands", "Nederland", "EUR", "nl",
        (("B.V.", "BV"), ("N.V.", "NV")),
        "{street} {n}",
        (City("Amsterdam", "Noord-Holland", "10## @@", ("Herengracht", "Keizersgracht", "Gustav Mahlerlaan")),
         City("Rotterdam", "Zuid-Holland", "30## @@", ("Coolsingel", "Wilhelminakade", "Weena")),
         City("Utrecht", "Utrecht", "35## @@", ("Oudegracht", "Catharijnesingel"))),
        "NL#########B01", ("Zuiderzee", "Amstel", "Oranjewoud"),
    ),
    Country(
        "IE", "Ireland", "Ireland", "EUR", "ie",
        (("Limited", "Ltd"), ("DAC", "DAC")),
        "{n} {street}",
        (City("Dublin", "County Dublin", "D0# @#@#", ("Merrion Square", "Harcourt Street", "Sir John Rogerson's Quay")),
         City("Cork", "County Cork", "T12 @#@#", ("South Mall", "Lapp's Quay"))),
        "IE#######@A", ("Dunmore", "Glenrock", "Shannonside"),
    ),
    Country(
        "AU", "Australia", "Australia", "AUD", "com.au",
        (("Pty Ltd", "Pty. Ltd."), ("Limited", "Ltd")),
        "Level {unit}, {n} {street}",
        (City("Sydney", "NSW", "2000", ("Martin Place", "George Street", "Pitt Street")),
         City("Melbourne", "VIC", "3000", ("Collins Street", "Bourke Street")),
         City("Brisbane", "QLD", "4000", ("Eagle Street", "Queen Street"))),
        "## ### ### ###", ("Southern Cross", "Banksia", "Coral Bay"),
    ),
    Country(
        "SG", "Singapore", "Asia", "SGD", "com.sg",
        (("Pte. Ltd.", "Pte Ltd"),),
        "{n} {street}, #{unit}-0{n2}",
        (City("Singapore", "", "0#####", ("Raffles Place", "Marina Boulevard", "Shenton Way", "Robinson Road")),),
        "20#######@", ("Lion Gate", "Straits", "Temasek Ridge"),
    ),
)}

# How often each country appears beyond the one client every country gets.
COUNTRY_WEIGHTS = {"GB": 30, "US": 25, "DE": 10, "FR": 8, "NL": 8, "IE": 7, "AU": 6, "SG": 6}

BRANDS = (
    "Northwind", "Bluewater", "Kestrel", "Meridian", "Silverline", "Granite", "Orchard", "Beacon",
    "Ironbridge", "Skylark", "Evergreen", "Falcon", "Crescent", "Sterling", "Brightwater", "Copperfield",
    "Driftwood", "Foxglove", "Goldcrest", "Hawthorn", "Juniper", "Larkspur", "Mariner", "Oakridge",
    "Quayside", "Riverside", "Saltmarsh", "Vantage", "Yarrow", "Zephyr", "Alder", "Bramble", "Cobalt",
    "Everly", "Fairhaven", "Holloway", "Kingsmere", "Lowther", "Marlow", "Nettlefield",
)

# Sector word in the name -> the CRM's Industry picklist value.
SECTORS = (
    ("Analytics", "Technology"), ("Logistics", "Transportation"), ("Health", "Healthcare"),
    ("Capital", "Finance"), ("Foods", "Food & Beverage"), ("Energy", "Energy"), ("Retail", "Retail"),
    ("Pharma", "Biotechnology"), ("Systems", "Technology"), ("Insurance", "Insurance"), ("Media", "Media"),
    ("Manufacturing", "Manufacturing"), ("Telecom", "Telecommunications"), ("Bank", "Banking"),
    ("Utilities", "Utilities"), ("Engineering", "Engineering"), ("Hotels", "Hospitality"), ("Shipping", "Shipping"),
)

PRACTICES = {
    "Strategy": ("Growth Strategy Refresh", "Market Entry Assessment", "Operating Model Review",
                 "Commercial Due Diligence", "Cost Transformation Programme"),
    "Technology": ("ERP Implementation", "Cloud Migration", "Cyber Security Assessment", "CRM Replatforming",
                   "Integration Architecture"),
    "Finance Transformation": ("Close Acceleration", "FP&A Redesign", "Revenue Recognition Readiness",
                               "Finance Shared Services Design", "Procure-to-Pay Optimisation"),
    "Data & AI": ("Data Platform Modernisation", "Customer Analytics", "GenAI Pilot", "Data Governance Programme",
                  "Demand Forecasting Model"),
    "People & Change": ("Change Management Support", "Leadership Development", "Workforce Planning",
                        "Culture Assessment", "HR Operating Model"),
}
# What the CRM's picklist calls a practice where it differs from the PSA's name.
CRM_PRACTICE = {"Data & AI": "Data and AI", "People & Change": "People and Change"}

FIRST_NAMES = ("Amelia", "Oliver", "Priya", "James", "Sofia", "Lukas", "Chloé", "Daniel", "Aisling", "Wei",
               "Hannah", "Mateo", "Grace", "Arjun", "Emma", "Noah", "Fatima", "Liam", "Ingrid", "Samuel")
LAST_NAMES = ("Clarke", "Novak", "Sharma", "O'Brien", "Müller", "Dubois", "Tan", "Fischer", "Walsh", "Okafor",
              "Bennett", "van Dijk", "Rossi", "Patel", "Nguyen", "Hughes", "Schmidt", "Moreau", "Kelly", "Lim")

MILESTONES = {
    "fixed_fee": ("Mobilisation complete", "Discovery sign-off", "Design approved", "Build complete",
                  "User acceptance", "Go-live", "Hypercare exit"),
    "time_and_materials": ("Kick-off", "Interim findings", "Final report"),
    "retainer": ("Quarterly business review", "Half-year review", "Annual review"),
}


def fill(rng: random.Random, pattern: str) -> str:
    """Expand a pattern: "#" becomes a digit, "@" a capital letter."""
    out = []
    for ch in pattern:
        if ch == "#":
            out.append(str(rng.randrange(10)))
        elif ch == "@":
            out.append(rng.choice("ABCDEFGHJKLMNPRSTUVWXY"))
        else:
            out.append(ch)
    return "".join(out)


def person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"

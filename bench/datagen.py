"""Deterministic generator of company records with known truth, for the matching benchmark.

    .venv/bin/python bench/datagen.py --records 100000 --out /tmp/m100k [--seed 7]

Writes ``input.csv`` (rec_id,name,domain,tax_id,country,street,city,postcode,phone; what the engines see),
``truth.csv`` (rec_id,entity_id) and ``stats.json`` (entities, true pairs, near-miss groups...). Companies
are in GB, US, DE, FR, NL, IE, AU and SG with valid tax ids (python-stdnum check digits) and valid phone
numbers (checked with phonenumbers as they are made); cities get companies in proportion to their postcodes.
Each entity yields 1..5 records (mean ~1.6) with suffix, abbreviation, casing, typo, word-order, missing-value,
moved-address, old-website, old-registration and formatting variations.
Hard negatives: parent/subsidiary groups (2-4 distinct entities sharing a brand, often the group domain,
sometimes the parent's address) and unrelated companies with common names in different countries.
Rows are streamed through shuffled bucket files, so 1M records need little memory.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import random
import re
import tempfile
import time
import unicodedata
from dataclasses import dataclass

import phonenumbers
from stdnum import luhn
from stdnum.au import abn
from stdnum.gb import vat as gb_vat
from stdnum.ie import vat as ie_vat
from stdnum.iso7064 import mod_11_10
from stdnum.sg import uen
from stdnum.us import ein

COLUMNS = ["rec_id", "name", "domain", "tax_id", "country", "street", "city", "postcode", "phone"]
S = str.split
SUR_EN = S("""Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans Walker White
Roberts Green Hall Wood Jackson Clarke Patel Khan Lewis James Phillips Mason Mitchell Rose Davis Rodriguez Cox
Alexander Morgan Hughes Edwards Hill Moore Clark Harrison Scott Young Morris Ward Turner Carter Cooper Harris Martin
King Lee Baker Allen Anderson Bell Campbell Collins Cook Bailey Murphy Kelly Kennedy Sullivan Walsh Byrne Ryan O'Brien
Doyle McCarthy Gallagher Quinn Nolan Brennan Lynch Fitzgerald Murray Stewart Thomson Reid Ross Fraser Hamilton Graham
Henderson Crawford Gordon Kerr Sutherland Wallace Cameron Bennett Webb Fletcher Hunt Palmer Holmes Mills Barnes Knight
Lloyd Butler Russell Barker Fisher Stevens Jenkins Dixon Fox Grant Gibson Marshall Owen Porter Rees Shaw Spencer
Webster Wells Warren Hayes Chapman Ellis Powell Foster Ford Day Griffiths Lawrence Richards Matthews Andrews Armstrong
Berry Cole Dean Dunn Elliott Ferguson Gray Hart Holland Hudson Jordan Lane Little Lowe Marsh Newman Nicholson Oliver
Payne Pearce Perry Pierce Price Reynolds Riley Rowe Saunders Simpson Slater Stone Tucker Wade Watts Wheeler Whitehead
Woods Atkinson Bradley Burton Chambers Dawson Gardner Goodwin Hawkins Holt Hopkins Howard Kirby Lambert Manning Miles
Norton Parsons Pollard Quincy Randall Sharp Sterling Thornton Vaughan Walton Whitaker Yates Abbott Ashworth Blackwood
Carrington Drummond Everett Fairbanks Gilmore Hargreaves Ingram Jefferson Kingsley Langford Merriweather Ogden
Pemberton Radcliffe Sinclair Talbot Underwood Vickers Wakefield Ashford Beaumont Cavendish Delaney Ellsworth Fenwick
Garrison Hathaway Irving Kendrick Lockhart Montague Northcott Osborne Prescott Rutherford Stanhope Templeton
Whitmore""")
SUR = {"EN": SUR_EN, **{k: S(v) for k, v in {
    "DE": """Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer Richter
Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Schmitt Werner Krause Meier Lehmann
Schmid Schulze Maier Köhler Herrmann König Walter Mayer Huber Kaiser Fuchs Peters Lang Scholz Möller Weiß Jung Hahn
Schubert Vogel Friedrich Keller Günther Frank Berger Winkler Roth Beck Lorenz Baumann Franke Albrecht Schuster Simon
Ludwig Böhm Winter Kraus Martin Schumacher Krämer Vogt Stein Jäger Otto Sommer Groß Seidel Heinrich Brandt Haas
Schreiber Graf Schulte Dietrich Ziegler Kuhn Kühn Pohl Engel Horn Busch Bergmann Thomas Voigt Sauer Arnold Wolff
Pfeiffer""",
    "FR": """Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefebvre Michel Garcia
David Bertrand Roux Vincent Fournier Morel Girard Andre Lefevre Mercier Dupont Lambert Bonnet Francois Martinez Legrand
Garnier Faure Rousseau Blanc Guerin Muller Henry Roussel Nicolas Perrin Morin Mathieu Clement Gauthier Dumont Lopez
Fontaine Chevalier Robin Masson Sanchez Gerard Nguyen Boyer Denis Lemaire Duval Joly Gautier Roger Roche Roy Noel Meyer
Lucas Meunier Jean Perez Marchand Dufour Blanchard Marie Barbier Brun Dumas Brunet Schmitt Leroux Colin Fernandez
Renard Arnaud Rolland Caron Aubert Giraud Leclerc Vidal Bourgeois Renaud Lemoine Picard Gaillard Philippe Leclercq""",
    "NL": """DeJong Jansen DeVries VandenBerg VanDijk Bakker Janssen Visser Smit Meijer DeBoer Mulder DeGroot Bos Vos
Peters Hendriks VanLeeuwen Dekker Brouwer DeWit Dijkstra Smits DeGraaf VanDerMeer VanDerLinden Kok Jacobs DeHaan
Vermeulen VandenHeuvel VanDerVeen VandenBroek DeBruijn DeBruin VanDerHeijden Schouten Beek Willems VanWijk Vink
Verhoeven Koster Prins Postma Kuipers Blom Huisman Peeters Kuiper Veenstra Kramer VandenBosch Vermeer Wouters Hoekstra
Timmermans Groen Maas Verbeek Scholten Lammers Wijnands Hermans Koning Boer Evers Bosman Sluiter Zwart Hoogland
Molenaar""",
    "SG": """Tan Lim Lee Ng Ong Wong Goh Chua Chan Koh Teo Ang Yeo Tay Ho Low Toh Sim Chong Chia Seah Foo Leong Yap Lau
Neo Wee Loh Pang Quek Heng Kwek Soh Phua Kang Liew Tham Yong Ho Khoo Kumar Singh Raj Nair Pillai Menon Abdullah Rahman
Ismail Hassan Osman Salleh Yusof Hamid Aziz Latiff Chandran Subramaniam Krishnan Gopal Ramasamy Mahmood""",
}.items()}}
PLACES = {k: S(v) for k, v in {
    "GB": """Thames Mersey Severn Pennine Cotswold Chiltern Mendip Wessex Mercia Albion Avon Tyne Trent Medway Solent
Kennet Clyde Forth Tay Cairngorm Snowdon Brecon Cheviot Quantock Exmoor Dartmoor Wolds Fenland Weald Downs""",
    "US": """Hudson Potomac Cascade Sierra Rocky Prairie Lakeshore Bayside Summit Redwood Mesa Canyon Ozark Appalachian
Shenandoah Chesapeake Sonoran Mojave Tahoe Yosemite Catskill Adirondack Sequoia Pacific Atlantic Gulf Heartland
Liberty""",
    "DE": """Rhein Elbe Main Donau Spree Havel Isar Neckar Mosel Weser Ruhr Harz Taunus Eifel Allgäu Alpen Nordsee
Ostsee Schwarzwald Bodensee Hanse Rheinland Franken Baltic Saale Lahn Werra Fulda Lausitz Vogtland""",
    "FR": """Seine Loire Rhône Garonne Dordogne Provence Alsace Bretagne Normandie Vendôme Lumière Azur Alpine Jura
Vosges Pyrénées Atlantique Méditerranée Champagne Bourgogne Savoie Aquitaine Armor Camargue Cévennes Vercors
Lorraine""",
    "NL": """Amstel Maas Waal IJssel Zuiderzee Vecht Lek Rijn Schelde Texel Veluwe Drenthe Brabant Zeeland Holland
Kempen Delta Polder Duin Gouwe Linge Dommel Eem Spaarne Zaan Gooi Twente Achterhoek Betuwe Westland""",
    "IE": """Liffey Shannon Boyne Corrib Slaney Barrow Suir Nore Lee Erne Wicklow Kerry Burren Connemara Atlantic
Emerald Celtic Tara Glendalough Killarney Howth Dalkey Moher Mourne Galtee Comeragh Slieve Claddagh Aran Blarney""",
    "AU": """Murray Darling Yarra Swan Hunter Barossa Kimberley Pilbara Outback Coral Reef Harbour Southern Eastern
Gippsland Daintree Kakadu Uluru Tasman Coastal Bondi Pacific Capricorn Flinders Otway Grampians Illawarra Riverina""",
    "SG": """Marina Raffles Orchard Sentosa Changi Jurong Tampines Bukit Kallang Serangoon Novena Tanglin Keppel Pasir
Bedok Clementi Woodlands Punggol Sembawang Temasek Straits Lion Merlion Harbourfront Esplanade Rochor Geylang""",
}.items()}
SECTORS = S("""Analytics Consulting Partners Advisory Capital Legal Engineering Logistics Software Solutions Systems
Technologies Ventures Associates Management Services Media Design Architects Digital Data Research Strategy Finance
Accountants Recruitment Talent Property Estates Energy Health Medical Pharma Labs Security Networks Cloud Marketing
Communications Insurance Brokers Trading Imports Foods Retail Interiors Construction Surveys Environmental Training
Learning Translation Travel Events Studios Films Print Packaging Freight Aviation Marine Automotive Robotics Biotech
Genomics Actuarial Audit Tax Payroll Outsourcing Staffing Facilities Investments Wealth Law Solicitors Valuations
Planning Infrastructure Utilities Telecom Semiconductors Instruments Controls Automation Sensors Devices Materials
Chemicals Plastics Metals Textiles Apparel Furniture Hospitality Catering Leisure Sports Publishing Broadcasting Games
Mobility Payments Lending Leasing Compliance Forensics Valuation Underwriting Claims Pensions Benefits Procurement
Sourcing Fulfilment Warehousing Shipping Mining Renewables Solar Water Agritech Fintech Insights Intelligence""")
LOCAL_SECTORS = {"DE": S("Beratung Technik Logistik Immobilien Verwaltung Handel Bau Systeme Steuerberatung Anlagenbau "
                         "Wirtschaftsprüfung Personalberatung Vermögensverwaltung Medien Elektrotechnik Maschinenbau"),
                 "FR": S("Conseil Ingénierie Immobilier Gestion Développement Transports Expertise Informatique "
                         "Études Finance Patrimoine Bâtiment Distribution Industries Solutions Services"),
                 "NL": S("Advies Techniek Beheer Bouw Diensten Vastgoed Logistiek Installatietechniek Adviseurs "
                         "Accountants Automatisering Projecten Ontwikkeling Groep Handel Vermogensbeheer")}
QUALIFIERS = ["International", "Global", "Group", "& Co", "Worldwide", "Associates", "Holdings", "Europe"]
ABBREV = [("International", "Intl"), ("Group", "Grp"), (" & ", " and "), ("Associates", "Assoc"),
          ("Management", "Mgmt"), ("Technologies", "Tech"), ("Services", "Svcs"), ("Company", "Co"),
          ("Consulting", "Consultancy"), ("Engineering", "Eng"), ("Holdings", "Hldgs"), ("Solutions", "Sols")]
SYL_A = S("""Ab Ac Ad Al Am An Ap Ar As At Av Ax Ba Be Bl Br Ca Ce Cl Co Cr Cy Da De Di Do Dr Dy El Em En Ep Eq Ev Ex Fa
Fl Fo Fr Ga Ge Gl Gr Ha He Hy In Io Ja Ka Ke Kr La Le Li Lo Lu Ly Ma Me Mi Mo My Na Ne Ni No Nu Ob Oc Om On Op Or Pa Pe
Ph Pl Po Pr Qu Ra Re Ri Ro Sa Sc Se Si So Sp St Su Sy Ta Te Th Ti To Tr Ty Ul Un Ur Va Ve Vi Vo Wa We Xa Xe Ya Ze Zo""")
SYL_B = ["", "l", "n", "r", "v", "x", "m", "t", "s", "d", "c", "g", "b", "k", "z", "nd", "rt", "st"]
SYL_M = S("a e i o u ra li no ve ta mi so ku de ne lo ri va ze")
SYL_C = S("a o ix ex on ar or ia io um us is era ora ent ant ium eon ica ify ly ova aro ide ine ion ist ite ity ius "
          "ive yx ux ax eo ani ena iva oro ent elle")
# Brands of "common" names (Apex Consulting, Summit Partners...): used once per country, in several countries.
COMMON = S("""Apex Summit Horizon Pinnacle Atlas Meridian Keystone Vertex Phoenix Crown Beacon Evergreen Sterling
Lighthouse Northstar Bluewater Oakwood Silverline Granite Cornerstone Compass Anchor Legacy Premier Unity Zenith""")
SUFFIXES = {"GB": [["Ltd", "Ltd.", "Limited", "LTD", ""], ["PLC", "plc", "Public Limited Company", ""], ["LLP", ""]],
            "US": [["Inc.", "Inc", "Incorporated", ""], ["LLC", "L.L.C.", ""], ["Corp.", "Corporation", "Corp", ""]],
            "DE": [["GmbH", "G.m.b.H.", "Gmbh", ""], ["AG", "Aktiengesellschaft", ""], ["GmbH & Co. KG", "GmbH"]],
            "FR": [["SAS", "S.A.S.", ""], ["SA", "S.A.", ""], ["SARL", "S.A.R.L.", "Sarl", ""]],
            "NL": [["B.V.", "BV", "B.V", ""], ["N.V.", "NV", ""]],
            "IE": [["Limited", "Ltd", "Ltd.", ""], ["DAC", "Designated Activity Company", ""], ["PLC", "plc", ""]],
            "AU": [["Pty Ltd", "Pty. Ltd.", "Pty Limited", "PTY LTD", ""], ["Ltd", "Limited", ""]],
            "SG": [["Pte. Ltd.", "Pte Ltd", "Private Limited", "PTE. LTD.", ""], ["Ltd", "Limited", ""]]}
HOLDING = {"GB": 1, "US": 2, "DE": 1, "FR": 1, "NL": 1, "IE": 2, "AU": 1, "SG": 1}  # parent's suffix group
SUB_TAG = {"GB": "UK", "US": "USA", "DE": "Deutschland", "FR": "France", "NL": "Nederland", "IE": "Ireland",
           "AU": "Australia", "SG": "Singapore"}
TLD = {"GB": "co.uk", "US": "com", "DE": "de", "FR": "fr", "NL": "nl", "IE": "ie", "AU": "com.au", "SG": "com.sg"}
# country: (weight, dialling code, trunk prefix, street style, street words, street types as (full, short))
COUNTRY = {"GB": (25, 44, "0", "en", "High Church Station Victoria King Queen Market Mill Park George Bridge London "
                  "Castle Albert Regent Oxford Cannon Fleet Moorgate Bishopsgate Chancery Gresham Eastcheap Wood",
                  [("Street", "St"), ("Road", "Rd"), ("Lane", "Ln"), ("Place", "Pl"), ("Square", "Sq")]),
           "US": (25, 1, "", "us", "Main Market Broadway Madison Lexington Park Washington Lincoln Franklin Jefferson "
                  "Pine Oak Maple Cedar Elm Spring Lake Hill Sunset Mission Howard Harrison Grant Wacker State",
                  [("Street", "St"), ("Avenue", "Ave"), ("Boulevard", "Blvd"), ("Drive", "Dr"), ("Road", "Rd")]),
           "DE": (12, 49, "0", "de", "Haupt Bahnhof Friedrich Goethe Schiller Berliner Linden Kaiser Wilhelm Garten "
                  "Markt Kirch Schul Ring Hafen Bismarck Mozart Beethoven Königs Park Industrie Ludwig",
                  [("straße", "str."), ("weg", "weg"), ("allee", "allee"), ("platz", "pl.")]),
           "FR": (10, 33, "0", "fr", "de la République|Victor Hugo|Jean Jaurès|du Général de Gaulle|de la Paix|Pasteur|"
                  "Foch|de Rivoli|Saint-Honoré|Haussmann|de la Gare|Gambetta|Carnot|Voltaire|des Lilas|du Commerce",
                  [("rue", "r."), ("avenue", "av."), ("boulevard", "bd"), ("place", "pl.")]),
           "NL": (8, 31, "0", "nl", "Keizers Heren Prinsen Stations Kerk Dorps Molen Wilhelmina Juliana Beatrix Oranje "
                  "Vondel Rembrandt Spui Singel Damrak Rokin Zuid Noord Ooster Wester Parnassus",
                  [("straat", "str."), ("gracht", "gr."), ("weg", "weg"), ("laan", "ln."), ("plein", "pln.")]),
           "IE": (6, 353, "0", "en", "Baggot Merrion Harcourt Leeson Dawson Grafton Pearse Fitzwilliam Mount "
                  "Adelaide Eyre Patrick Oliver Plunkett Connolly Dominick Parnell Camden", [("Street", "St"),
                  ("Road", "Rd"), ("Square", "Sq"), ("Quay", "Quay"), ("Place", "Pl")]),
           "AU": (8, 61, "0", "au", "George Pitt Collins Bourke Queen Elizabeth Macquarie Kent Sussex Clarence "
                  "Flinders Spencer Adelaide Eagle Hay Murray Kings King William Creek",
                  [("Street", "St"), ("Road", "Rd"), ("Terrace", "Tce"), ("Parade", "Pde")]),
           "SG": (6, 65, "", "sg", "Raffles|Robinson|Cecil|Anson|Shenton|Tanjong Pagar|Beach|Orchard|Scotts|"
                  "Marina|Collyer|Cross|Market|North Bridge|Tras|Amoy|Telok Ayer|Havelock|Kallang|Alexandra",
                  [("Road", "Rd"), ("Street", "St"), ("Avenue", "Ave"), ("Boulevard", "Blvd")])}
# Per country: "city|alternative spelling|postcodes (lists, ranges)|phone patterns (N = 2-9, # = 0-9)", ";"-separated.
CITIES = {
    "GB": "London|Greater London|EC1A EC2M EC2V EC3V EC4M WC1E WC2H W1D W1T SE1 E1 E14 N1 NW1 SW1A SW1P|20 7### ####,"
          "20 3### ####;Manchester||M1 M2 M3 M4 M15 M50|161 N## ####;Birmingham||B1 B2 B3 B4 B5 B15|121 N## ####;"
          "Leeds||LS1 LS2 LS10 LS11|113 N## ####;Glasgow||G1 G2 G3 G4|141 N## ####;"
          "Edinburgh||EH1 EH2 EH3 EH12|131 N## ####;Bristol||BS1 BS2 BS8|117 N## ####;"
          "Cambridge||CB1 CB2 CB4|1223 N#####;Reading||RG1 RG2 RG7|118 N## ####",
    "US": "New York|NYC|100 101 102|212 N## ####,646 N## ####;Boston||021 022|617 N## ####;"
          "Chicago||606 607|312 N## ####;San Francisco|SF|941|415 N## ####;Austin||787|512 N## ####;"
          "Seattle||981|206 N## ####;"
          "Atlanta||303|404 N## ####;Denver||802|303 N## ####;Dallas||752|214 N## ####;Miami||331|305 N## ####",
    "DE": "Berlin||10 12 13|30 N#######;München|Munich|80 81|89 N#######;Hamburg||20 22|40 N#######;"
          "Frankfurt am Main|Frankfurt|60|69 N#######;Köln|Cologne|50 51|221 N######;Stuttgart||70|711 N######;"
          "Düsseldorf|Dusseldorf|40|211 N######",
    "FR": "Paris||75001-75020 75116|1 4# ## ## ##;Lyon||69001-69009|4 7N ## ## ##;Marseille||13001-13016|4 91 ## ## ##;"
          "Toulouse||31000-31500/100|5 61 ## ## ##;Bordeaux||33000-33300/100 33800|5 56 ## ## ##;"
          "Lille||59000 59160 59260 59777 59800|3 20 ## ## ##;Nantes||44000-44300/100|2 40 ## ## ##;"
          "Courbevoie|La Défense|92400|1 4# ## ## ##;Boulogne-Billancourt|Boulogne|92100|1 4# ## ## ##;"
          "Neuilly-sur-Seine|Neuilly|92200|1 4# ## ## ##;Levallois-Perret|Levallois|92300|1 4# ## ## ##;"
          "Issy-les-Moulineaux|Issy|92130|1 4# ## ## ##;Strasbourg||67000-67200/100|3 88 ## ## ##;"
          "Nice||06000-06300/100|4 93 ## ## ##;Rennes||35000 35200 35700|2 99 ## ## ##;"
          "Montpellier||34000 34070 34080 34090|4 67 ## ## ##;Grenoble||38000 38100|4 76 ## ## ##",
    "NL": "Amsterdam||1011-1109|20 N## ####;Rotterdam||3011-3089|10 N## ####;Den Haag|The Hague|2511-2597|70 N## ####;"
          "Utrecht||3511-3585|30 N## ####;Eindhoven||5611-5658|40 N## ####",
    "IE": "Dublin||D01 D02 D04 D06 D08 D18 D24|1 N## ####;Cork||T12 T23|21 4## ####;Galway||H91|91 5## ###;"
          "Limerick||V94|61 4## ###",
    "AU": "Sydney||2000-2234|2 9### ####,2 8### ####;Melbourne||3000-3207|3 9### ####,3 8### ####;"
          "Brisbane||4000-4179|7 3### ####;Perth||6000-6175|8 9### ####;Adelaide||5000-5174|8 8### ####",
    "SG": "Singapore||01-82|6### ####",
}


@dataclass
class City:
    name: str
    alt: str
    postcodes: list[str]
    phones: list[str]


def _codes(spec: str) -> list[str]:
    codes: list[str] = []
    for part in spec.split():
        lo, _, hi = part.partition("-")
        hi, _, step = hi.partition("/")
        codes += [str(n).zfill(len(lo)) for n in range(int(lo), int(hi or lo) + 1, int(step or 1))] if hi else [lo]
    return codes


CITY = {cc: [City(n, a, _codes(p), ph.split(",")) for n, a, p, ph in (c.split("|") for c in v.split(";"))]
        for cc, v in CITIES.items()}
CITY_WEIGHTS = {cc: list(itertools.accumulate(len(c.postcodes) for c in cities)) for cc, cities in CITY.items()}
EIN_PREFIXES = [p for p in range(1, 100) if ein.is_valid(f"{p:02d}-1234567")]
IDD = {"AU": "0011 ", "SG": "+"}  # international call prefix where it is not 00
TAKEN: set[str] = set()  # domains in use


def tax_id(rng: random.Random, cc: str) -> list[str]:
    """Display variants of one valid tax id for the country (the first is the usual form)."""
    d = lambda n: "".join(rng.choice("0123456789") for _ in range(n))  # noqa: E731
    if cc == "GB":  # VAT: weighted sum mod 97 must be 0
        body = str(rng.randint(100, 999)) + d(4)
        n = body + f"{(-gb_vat.checksum(body + '00')) % 97:02d}"
        return ["GB" + n, f"GB {n[:3]} {n[3:7]} {n[7:]}", n, f"{n[:3]} {n[3:7]} {n[7:]}"]
    if cc == "US":  # EIN: any 7 digits after a campus prefix the IRS uses
        n = f"{rng.choice(EIN_PREFIXES):02d}{d(7)}"
        return [f"{n[:2]}-{n[2:]}", n]
    if cc == "DE":  # USt-IdNr: ISO 7064 mod 11,10
        body = str(rng.randint(1, 9)) + d(7)
        n = body + mod_11_10.calc_check_digit(body)
        return ["DE" + n, f"DE {n}", f"DE {n[:3]} {n[3:6]} {n[6:]}"]
    if cc == "FR":  # TVA: key from a Luhn-valid SIREN
        siren = str(rng.randint(1, 9)) + d(7)
        siren += luhn.calc_check_digit(siren)
        n = f"{int(siren + '12') % 97:02d}{siren}"
        return ["FR" + n, f"FR {n[:2]} {n[2:]}", f"FR{n[:2]} {n[2:5]} {n[5:8]} {n[8:]}"]
    if cc == "NL":  # btw: 11-test number + B01
        rest, body = 10, ""
        while rest > 9:
            body = str(rng.randint(1, 9)) + d(7)
            rest = sum((9 - i) * int(c) for i, c in enumerate(body)) % 11
        n = body + str(rest)
        return [f"NL{n}B01", f"NL {n}B01", f"NL{n[:4]}.{n[4:6]}.{n[6:]}.B01"]
    if cc == "IE":  # VAT: 7 digits + check letter
        body = d(7)
        n = body + ie_vat.calc_check_digit(body)
        return ["IE" + n, f"IE {n}", n]
    if cc == "AU":  # ABN: two check digits in front
        body = str(rng.randint(1, 9)) + d(8)
        n = abn.calc_check_digits(body) + body
        return [f"{n[:2]} {n[2:5]} {n[5:8]} {n[8:]}", n]
    body = str(rng.randint(1975, 2024)) + d(5)  # SG: local-company UEN, year + 5 digits + check letter
    n = body + uen.calc_local_company_check_digit(body)
    return [n, n.lower()]


def phone(rng: random.Random, cc: str, city: City) -> list[str]:
    """Display variants of one valid phone number of the city (checked with phonenumbers)."""
    dial, trunk = COUNTRY[cc][1], COUNTRY[cc][2]
    for _ in range(200):
        filled = "".join(rng.choice("23456789") if c == "N" else rng.choice("0123456789") if c == "#" else c
                         for c in rng.choice(city.phones))
        nsn = filled.replace(" ", "")
        if phonenumbers.is_valid_number(phonenumbers.PhoneNumber(country_code=dial, national_number=int(nsn))):
            break
    else:
        raise RuntimeError(f"no valid phone pattern for {city.name}")
    if cc == "US":
        a, b, c = filled.split()
        return [f"+1 {a} {b} {c}", f"({a}) {b}-{c}", f"{a}-{b}-{c}", f"+1{nsn}", f"1-{a}-{b}-{c}"]
    return [f"+{dial} {filled}", f"{trunk}{filled}", f"+{dial}{nsn}", f"{trunk}{nsn}", f"{IDD.get(cc, '00')}{dial} "
            f"{filled}", f"+{dial} ({trunk}){filled}" if trunk else f"+{dial}-{nsn}"]


def postcode(rng: random.Random, cc: str, city: City) -> str:
    base, letters = rng.choice(city.postcodes), "ABDEFGHJLNPQRSTUWXYZ"
    return {"GB": lambda: f"{base} {rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}",
            "US": lambda: f"{base}{rng.randint(0, 99):02d}", "DE": lambda: f"{base}{rng.randint(0, 999):03d}",
            "NL": lambda: f"{base} {rng.choice('ABCEGHJKLMNPRTVWXZ')}{rng.choice('ABCEGHJKLMNPRTVWXZ')}",
            "IE": lambda: f"{base} " + "".join(rng.choice("0123456789ACDEFHKNPRTVWXY") for _ in range(4)),
            "SG": lambda: f"{base}{rng.randint(0, 9999):04d}"}.get(cc, lambda: base)()


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.replace("ß", "ss"))
    return "".join(c for c in text.lower() if c.isascii() and (c.isalnum() or c == " "))


def _coined(rng: random.Random) -> str:
    a = rng.choice(SYL_A)
    for _ in range(rng.choice([0, 1, 1, 1, 2])):
        a += rng.choice(SYL_M)
    return a + (rng.choice(SYL_B) if a[-1] in "aeiouy" else "") + rng.choice(SYL_C)


def _sector(rng: random.Random, cc: str) -> str:
    local = LOCAL_SECTORS.get(cc)
    return rng.choice(local) if local and rng.random() < 0.3 else rng.choice(SECTORS)


def company_words(rng: random.Random, cc: str) -> str:
    """A company name without its legal suffix, e.g. 'Harrison & Webb Advisory' or 'Nexora Analytics'."""
    names = SUR.get(cc, SUR_EN) if rng.random() < 0.8 else SUR_EN
    sur = lambda: re.sub(r"(?<=[a-z])(?=[A-Z])", " ", rng.choice(names))  # noqa: E731  DeJong -> De Jong
    sec, coined, place = (lambda: _sector(rng, cc)), (lambda: _coined(rng)), (lambda: rng.choice(PLACES[cc]))
    pattern = rng.choices(range(9), weights=[14, 3, 27, 8, 2, 11, 12, 11, 12])[0]
    words = [lambda: f"{sur()} & {sur()}" + (f" {sec()}" if rng.random() < 0.5 else ""), lambda: f"{sur()} {sec()}",
             lambda: f"{coined()} {sec()}", coined, lambda: f"{place()} {sec()}", lambda: f"{coined()} {sec()} {sec()}",
             lambda: f"{sur()} {sur()} {sec()}", lambda: f"{place()} {coined()} {sec()}",
             lambda: f"{place()} {sec()} {sec()}"][pattern]()
    return words + (f" {rng.choice(QUALIFIERS)}" if rng.random() < 0.15 else "")


def domain_for(rng: random.Random, words: str, cc: str, taken: set[str]) -> str:
    """A domain no other company holds (families share theirs on purpose, see family())."""
    tokens = [t for t in _fold(words).split() if t not in {"co", "and"}]
    sep, tld = "-" if rng.random() < 0.2 else "", TLD[cc] if rng.random() < 0.7 else "com"
    names = [sep.join(tokens[:n]) for n in range(min(rng.choice([1, 2, 2, 3]), len(tokens)), len(tokens) + 1)]
    domain, i = next((f"{n}.{tld}" for n in names if f"{n}.{tld}" not in taken), ""), 1
    while not domain or domain in taken:
        domain, i = f"{names[-1]}{i}.{tld}", i + 1
    taken.add(domain)
    return domain


def street(rng: random.Random, cc: str) -> list[str]:
    """[full, abbreviated, without floor/suite] renderings of one address line."""
    _, _, _, style, words, types = COUNTRY[cc]
    word = rng.choice(words.split("|") if "|" in words else words.split())
    full, short = rng.choice(types)
    num = rng.randint(100, 2500) if style == "us" else rng.randint(1, 40 if rng.random() < 0.6 else 250)
    if style in ("de", "nl"):
        return [f"{word}{full} {num}", f"{word}{short} {num}", f"{word}{full} {num}"]
    if style == "fr":
        return [f"{num} {full} {word}", f"{num} {short} {word}", f"{num} {full.capitalize()} {word}"]
    pre = post = ""
    r = rng.random()
    if style == "en" and r < 0.3:
        pre = rng.choice(["Unit", "Floor", "Suite"]) + f" {rng.randint(1, 12)}, "
    elif style == "au" and r < 0.5:
        pre = f"Level {rng.randint(1, 40)}, "
    elif style == "us" and r < 0.5:
        post = f", Suite {rng.randint(1, 40) * 100}"
    elif style == "sg" and r < 0.6:
        post = f" #{rng.randint(2, 40):02d}-{rng.randint(1, 20):02d}"
    main = f"{num} {word}"
    return [f"{pre}{main} {full}{post}", f"{pre}{main} {short}{post.replace('Suite', 'Ste')}", f"{main} {full}"]


@dataclass
class Site:
    city: City
    street: list[str]
    postcode: str
    phone: list[str]


@dataclass
class Entity:
    eid: int
    cc: str
    words: str  # name without legal suffix
    suffixes: list[str]  # legal-suffix variants, the first is the registered one
    domain: str
    tax: list[str]
    sites: list[Site]  # [current] or [current, previous address]
    copies: int
    group: int = 0  # parent/subsidiary family, 0 = none
    old_domain: str = ""  # a second website some records still show (rebrand, .com vs country domain)
    old_tax: list[str] | None = None  # a previous registration some records still carry (re-registered)


def new_site(rng: random.Random, cc: str, city: City | None = None) -> Site:
    city = city or rng.choices(CITY[cc], cum_weights=CITY_WEIGHTS[cc])[0]  # bigger cities, more companies
    return Site(city, street(rng, cc), postcode(rng, cc, city), phone(rng, cc, city))


def new_entity(rng: random.Random, eid: int, cc: str, words: str, suffix_group: int | None = None) -> Entity:
    """A company with its own name, tax id, domain, site(s) and number of records (copies)."""
    groups = SUFFIXES[cc]
    if suffix_group is None:
        suffix_group = 0 if rng.random() < 0.8 else rng.randrange(len(groups))
    copies = rng.choices([1, 2, 3, 4, 5], weights=[64, 20, 9, 4.5, 2.5])[0]
    sites = [new_site(rng, cc)]
    if copies > 1 and rng.random() < 0.2:  # moved: same city (70%) or another city
        sites.append(new_site(rng, cc, sites[0].city if rng.random() < 0.7 else None))
    e = Entity(eid, cc, words, groups[suffix_group], domain_for(rng, words, cc, TAKEN), tax_id(rng, cc), sites, copies)
    if copies > 1 and rng.random() < 0.08:
        e.old_domain = domain_for(rng, words, cc, TAKEN)
    if copies > 1 and rng.random() < 0.04:
        e.old_tax = tax_id(rng, cc)
    return e


def pick_country(rng: random.Random) -> str:
    return rng.choices(list(COUNTRY), weights=[v[0] for v in COUNTRY.values()])[0]


def family(rng: random.Random, eid: int, gid: int) -> list[Entity]:
    """A parent/subsidiary family: distinct entities sharing a brand, often the group domain and address."""
    brand = _coined(rng) if rng.random() < 0.85 else f"{rng.choice(SUR_EN)} {rng.choice(SUR_EN)}"
    home = pick_country(rng)
    parent = new_entity(rng, eid, home, f"{brand} {rng.choice(['Holdings', 'Group', 'Holdings', ''])}".strip(),
                        HOLDING[home])
    TAKEN.discard(parent.domain)
    parent.domain = domain_for(rng, rng.choice([brand, f"{brand} group"]), home, TAKEN)
    members, names = [parent], {parent.words}
    for _ in range(rng.choice([1, 1, 2, 3])):
        cc = home if rng.random() < 0.5 else pick_country(rng)
        words = parent.words
        while words in names:
            words = rng.choice([f"{brand} {SUB_TAG[cc]}", f"{brand} {_sector(rng, cc)}",
                                f"{brand} {_sector(rng, cc)} Services", f"{brand} {SUB_TAG[cc]} {_sector(rng, cc)}"])
        names.add(words)
        member = new_entity(rng, eid + len(members), cc, words, 0)
        member.domain = parent.domain if rng.random() < 0.6 else member.domain
        if cc == home and rng.random() < 0.3:  # registered at the parent's address, sometimes its switchboard too
            home_site = parent.sites[0]
            phone_ = home_site.phone if rng.random() < 0.5 else member.sites[0].phone
            member.sites[0] = Site(home_site.city, home_site.street, home_site.postcode, phone_)
        members.append(member)
    for m in members:
        m.group = gid
    return members


def typo(rng: random.Random, s: str) -> str:
    i = rng.randrange(1, len(s) - 2)
    return rng.choice([s[:i] + rng.choice("abcdefghijklmnopqrstuvwxyz") + s[i + 1:], s[:i] + s[i + 1:],
                       s[:i] + s[i + 1] + s[i] + s[i + 2:], s[:i] + s[i] + s[i:]])


def render(rng: random.Random, e: Entity, k: int) -> list[str]:
    """The k-th record of an entity (k = 0 is the cleanest); columns after rec_id."""
    p = 0.5 if k else 0.15  # how much this copy varies
    name = e.words
    for full, short in ABBREV:
        if full in name and rng.random() < 0.5 * p:
            name = name.replace(full, short)
    tokens = name.split()
    if len(tokens) > 1 and rng.random() < 0.12 * p:  # swapped word order ("Webb & Harrison")
        i = tokens.index("&") - 1 if "&" in tokens else rng.randrange(len(tokens) - 1)
        j = i + 2 if "&" in tokens else i + 1
        tokens[i], tokens[j] = tokens[j], tokens[i]
        name = " ".join(tokens)
    suffix = e.suffixes[0] if rng.random() > p else rng.choice(e.suffixes)
    name = f"{name}{',' if rng.random() < 0.1 else ''} {suffix}".strip()
    if len(name) > 5 and rng.random() < 0.3 * p:
        name = typo(rng, name) if rng.random() < 0.75 else typo(rng, typo(rng, name))
    r = rng.random()
    name = name.upper() if r < 0.08 else name.lower() if r < 0.12 else name.replace(".", "") if r < 0.17 else name
    site = e.sites[1] if len(e.sites) > 1 and k and rng.random() < 0.4 else e.sites[0]
    r, dom = rng.random(), e.old_domain if e.old_domain and k and rng.random() < 0.4 else e.domain
    dom = ("" if r < 0.25 else dom if r < 0.7 else f"www.{dom}" if r < 0.8 else f"https://www.{dom}/" if r < 0.88
           else f"http://{dom}" if r < 0.95 else dom.upper())
    taxes = e.old_tax if e.old_tax and k and rng.random() < 0.4 else e.tax
    tax = "" if rng.random() < 0.35 else taxes[0] if rng.random() < 0.7 else rng.choice(taxes)
    st = "" if rng.random() < 0.15 else site.street[0] if rng.random() > p else rng.choice(site.street)
    city = site.city.alt if site.city.alt and rng.random() < 0.15 else site.city.name
    city = city.upper() if rng.random() < 0.05 else city
    r, pc = rng.random(), site.postcode
    pc = pc.replace(" ", "") if r < 0.1 else pc.lower() if r < 0.15 else \
        f"{pc}-{rng.randint(1000, 9999)}" if r < 0.2 and e.cc == "US" else pc
    ph = "" if rng.random() < 0.2 else site.phone[0] if rng.random() > p else rng.choice(site.phone)
    return [name, dom, tax, e.cc, st, city, pc, ph]


def generate(n_records: int, out_dir: str, seed: int = 7) -> dict[str, object]:
    """Write input.csv, truth.csv and stats.json for exactly n_records records; return the stats."""
    rng = random.Random(seed)
    TAKEN.clear()
    os.makedirs(out_dir, exist_ok=True)
    n_buckets = max(1, n_records // 25_000)
    tmp = tempfile.mkdtemp(dir=out_dir, prefix=".buckets")
    handles = [open(os.path.join(tmp, f"{i}.csv"), "w", newline="", encoding="utf-8") for i in range(n_buckets)]
    writers = [csv.writer(h) for h in handles]
    written = eid = gid = true_pairs = near_miss_pairs = common = 0
    grouped_entities = grouped_records = entities = 0
    name_counts: dict[str, int] = {}
    common_used: set[tuple[str, str]] = set()
    while written < n_records:
        r = rng.random()
        if r < 0.04:
            gid += 1
            batch = family(rng, eid, gid)
        elif r < 0.06:
            words, cc = f"{rng.choice(COMMON)} {rng.choice(SECTORS)}", pick_country(rng)
            while (words, cc) in common_used:  # a common name, but in a country where it is not yet taken
                words, cc = f"{rng.choice(COMMON)} {rng.choice(SECTORS)}", pick_country(rng)
            common_used.add((words, cc))
            batch = [new_entity(rng, eid, cc, words)]
            common += 1
        else:
            cc = pick_country(rng)
            batch = [new_entity(rng, eid, cc, company_words(rng, cc))]
        eid += len(batch)
        for e in batch:
            e.copies = min(e.copies, n_records - written)
            if not e.copies:
                continue
            entities += 1
            key = _fold(e.words)
            name_counts[key] = name_counts.get(key, 0) + 1
            true_pairs += e.copies * (e.copies - 1) // 2
            if e.group:
                grouped_entities += 1
                grouped_records += e.copies
            for k in range(e.copies):
                writers[rng.randrange(n_buckets)].writerow([e.eid, *render(rng, e, k)])
            written += e.copies
        live = [e.copies for e in batch if e.copies]
        near_miss_pairs += (sum(live) ** 2 - sum(c * c for c in live)) // 2 if batch[0].group else 0
    for h in handles:
        h.close()
    rec_id = 0
    with open(os.path.join(out_dir, "input.csv"), "w", newline="", encoding="utf-8") as f_in, \
            open(os.path.join(out_dir, "truth.csv"), "w", newline="", encoding="utf-8") as f_truth:
        w_in, w_truth = csv.writer(f_in), csv.writer(f_truth)
        w_in.writerow(COLUMNS)
        w_truth.writerow(["rec_id", "entity_id"])
        for i in range(n_buckets):
            path = os.path.join(tmp, f"{i}.csv")
            with open(path, newline="", encoding="utf-8") as f:
                rows = list(csv.reader(f))
            rng.shuffle(rows)
            for row in rows:
                rec_id += 1
                w_in.writerow([rec_id, *row[1:]])
                w_truth.writerow([rec_id, f"E{row[0]}"])
            os.remove(path)
    os.rmdir(tmp)
    shared = sum(c for c in name_counts.values() if c > 1)
    stats: dict[str, object] = {
        "records": written, "entities": entities, "records_per_entity": round(written / max(entities, 1), 3),
        "true_pairs": true_pairs, "near_miss_groups": gid, "entities_in_groups": grouped_entities,
        "share_records_in_groups": round(grouped_records / max(written, 1), 4),
        "near_miss_cross_entity_pairs": near_miss_pairs, "common_name_entities": common,
        "share_entities_sharing_base_name": round(shared / max(entities, 1), 4), "seed": seed,
    }
    with open(os.path.join(out_dir, "stats.json"), "w", encoding="utf-8") as f:
        json.dump(stats, f, indent=2)
    return stats


def check_sample(out_dir: str, n: int = 2000) -> dict[str, float]:
    """Share of valid tax ids and phone numbers among the first n filled values (should both be 1.0)."""
    from stdnum import get_cc_module

    validators = {cc: get_cc_module(cc.lower(), "ein" if cc == "US" else "uen" if cc == "SG" else
                                    "abn" if cc == "AU" else "vat") for cc in COUNTRY}
    tax_ok = tax_n = ph_ok = ph_n = 0
    with open(os.path.join(out_dir, "input.csv"), newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["tax_id"] and tax_n < n:
                tax_n += 1
                tax_ok += bool(validators[row["country"]].is_valid(row["tax_id"]))
            if row["phone"] and ph_n < n:
                ph_n += 1
                ph_ok += phonenumbers.is_valid_number(phonenumbers.parse(row["phone"], row["country"]))
            if tax_n >= n and ph_n >= n:
                break
    return {"tax_id_valid": tax_ok / max(tax_n, 1), "phone_valid": ph_ok / max(ph_n, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--check", action="store_true", help="validate a sample of tax ids and phones")
    args = parser.parse_args()
    started = time.perf_counter()
    stats = generate(args.records, args.out, args.seed)
    stats["seconds"] = round(time.perf_counter() - started, 1)
    if args.check:
        stats.update(check_sample(args.out))
    print(json.dumps(stats, indent=2))


if __name__ == "__main__":
    main()

"""Normalisation of attribute values before blocking and comparison.

Every public function takes ``str | None`` and returns ``str``, where ``""`` means missing or unparseable; none raises
on bad input (a non-string counts as missing). They run over up to a million records, so results are cached per
distinct input and every lookup table is built once, at import.

By topic: `folding` (shared case/accent folding and `text`), `names` (companies, people), `identifiers` (domains,
e-mail, phones, tax numbers, postcodes) and `values` (countries, currencies, address lines, dates, numbers).
"""

from canonical.matching.normalise.folding import text
from canonical.matching.normalise.identifiers import domain, email, phone, postcode, tax_id, tax_id_is_valid
from canonical.matching.normalise.names import company_name, person_name
from canonical.matching.normalise.values import address, country, currency, date, exact, number

__all__ = [
    "address", "company_name", "country", "currency", "date", "domain", "email", "exact", "number", "person_name",
    "phone", "postcode", "tax_id", "tax_id_is_valid", "text",
]

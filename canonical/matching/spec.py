"""A match specification: which fields to compare and how, how to block, and the decision thresholds.

The same shape configures the hub's matching (per entity type) and ``manage.py dedupe_csv``::

    {"id": "rec_id",
     "fields": [{"name": "name", "type": "company_name"},
                {"name": "vat", "type": "tax_id", "country_field": "country"}],
     "blocking": [["vat"], ["postcode", "name"]],        # optional: chosen automatically when absent
     "deterministic": [["vat"]],                          # optional: agreeing on these always matches
     # a field may also say "required": true (a complete disagreement on it rules a pair out),
     # "tf_adjust": false (no term-frequency adjustment) and "country_field" (see FieldSpec)
     "thresholds": "auto"}                                # or {"match": 0.9, "review": 0.5}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

FIELD_TYPES = (
    "exact", "string", "name", "company_name", "date", "number", "postcode", "address", "phone", "email",
    "domain", "tax_id", "country", "currency",
)
# Types whose value is an identifier: equal normalised values are a strong blocking key on their own.
IDENTIFIER_TYPES = frozenset({"exact", "tax_id", "domain", "email", "phone", "postcode"})
NAME_TYPES = frozenset({"name", "company_name", "string"})
COUNTRY_AWARE_TYPES = frozenset({"tax_id", "phone", "postcode"})
REQUIRED_BY_DEFAULT = frozenset({"tax_id"})


class ConfigError(ValueError):
    """The match configuration is invalid; the message names the problem."""


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    country_field: str | None = None
    # Term-frequency adjustment: agreeing on a common value counts less than agreeing on a rare one.
    tf_adjust: bool = True
    # A complete disagreement on a required field rules the pair out, whatever else agrees (two companies
    # in one building share an address, not a name), unless a deterministic rule matched.
    required: bool = False
    # Starting weights per comparison level (exact ... far), before any training: "u" is how often
    # two different records agree at each level, "m" how often two copies of one record do.
    m: tuple[float, ...] | None = None
    u: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Thresholds:
    match: float
    review: float


@dataclass(frozen=True)
class MatchSpec:
    id_field: str
    fields: tuple[FieldSpec, ...]
    blocking: tuple[tuple[str, ...], ...] | None = None
    deterministic: tuple[tuple[str, ...], ...] = ()
    thresholds: Thresholds | None = None  # None: "auto", EM and the data decide
    max_block_size: int = 2000
    # Each blocking rule brings at most this many candidate pairs per record (largest blocks dropped first).
    pairs_per_record: int = 10
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def required_columns(self) -> set[str]:
        cols = {self.id_field, *self.field_names}
        cols.update(f.country_field for f in self.fields if f.country_field)
        return cols

    def check_columns(self, columns: Sequence[str], *, where: str = "input") -> None:
        missing = sorted(self.required_columns() - set(columns))
        if missing:
            raise ConfigError(f"{where}: missing column(s) {', '.join(missing)} named in the configuration")


def _rules(value: Any, key: str, known: set[str]) -> tuple[tuple[str, ...], ...]:
    if not isinstance(value, list) or not all(isinstance(r, list) and r for r in value):
        raise ConfigError(f"'{key}' must be a list of non-empty lists of field names, e.g. [[\"tax_id\"]]")
    for rule in value:
        for name in rule:
            if name not in known:
                raise ConfigError(f"'{key}' names {name!r}, which is not a field of the configuration")
    return tuple(tuple(rule) for rule in value)


def parse_spec(data: Mapping[str, Any]) -> MatchSpec:
    """Validate a configuration; every error names the key or field at fault."""
    if not isinstance(data, Mapping):
        raise ConfigError("the configuration must be a JSON object")
    id_field = data.get("id")
    if not isinstance(id_field, str) or not id_field:
        raise ConfigError("'id' must name the column holding each record's id")
    raw_fields = data.get("fields")
    if not isinstance(raw_fields, list) or not raw_fields:
        raise ConfigError("'fields' must be a non-empty list of {\"name\": ..., \"type\": ...}")
    fields = []
    for i, raw in enumerate(raw_fields):
        if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str) or not raw.get("name"):
            raise ConfigError(f"fields[{i}] must be an object with a 'name'")
        ftype = raw.get("type")
        if ftype not in FIELD_TYPES:
            expected = ", ".join(FIELD_TYPES)
            raise ConfigError(f"field {raw['name']!r}: unknown type {ftype!r}; expected one of {expected}")
        country_field = raw.get("country_field")
        if country_field is not None and not isinstance(country_field, str):
            raise ConfigError(f"field {raw['name']!r}: 'country_field' must be a column name")
        # Two different valid tax ids are two legal entities (a parent and its subsidiary share a brand, a
        # website, even an address, never a tax id), so tax ids are required unless the rules say otherwise.
        required = bool(raw.get("required", ftype in REQUIRED_BY_DEFAULT))
        fields.append(FieldSpec(raw["name"], ftype, country_field, bool(raw.get("tf_adjust", True)), required,
                                _levels(raw, "m", ftype), _levels(raw, "u", ftype)))
    names = [f.name for f in fields]
    if len(set(names)) != len(names):
        raise ConfigError("'fields' names a column twice")
    if id_field in names:
        raise ConfigError(f"the id column {id_field!r} cannot also be a compared field")
    known = set(names)
    blocking = _rules(data["blocking"], "blocking", known) if data.get("blocking") is not None else None
    deterministic = _rules(data.get("deterministic", []), "deterministic", known) if data.get("deterministic") else ()
    thresholds = _thresholds(data.get("thresholds", "auto"))
    max_block = data.get("max_block_size", 2000)
    if not isinstance(max_block, int) or max_block < 2:
        raise ConfigError("'max_block_size' must be an integer of at least 2")
    pairs_per_record = data.get("pairs_per_record", 10)
    if not isinstance(pairs_per_record, int) or pairs_per_record < 1:
        raise ConfigError("'pairs_per_record' must be a positive integer")
    extra = {k: v for k, v in data.items() if k not in {"id", "fields", "blocking", "deterministic", "thresholds",
                                                         "max_block_size", "pairs_per_record"}}
    return MatchSpec(id_field, tuple(fields), blocking, deterministic, thresholds, max_block, pairs_per_record,
                     extra)


def _levels(raw: Mapping[str, Any], key: str, ftype: str) -> tuple[float, ...] | None:
    from canonical.matching.compare import LEVELS

    value = raw.get(key)
    if value is None:
        return None
    n = len(LEVELS[ftype])
    if (not isinstance(value, list) or len(value) != n or not all(isinstance(v, int | float) and 0 < v < 1
                                                                  for v in value)):
        raise ConfigError(f"field {raw['name']!r}: '{key}' must list {n} probabilities, one per level "
                          f"({', '.join(LEVELS[ftype])})")
    return tuple(float(v) / sum(value) for v in value)


def _thresholds(value: Any) -> Thresholds | None:
    if value == "auto" or value is None:
        return None
    if not isinstance(value, Mapping) or set(value) - {"match", "review"} or "match" not in value:
        raise ConfigError("'thresholds' must be \"auto\" or {\"match\": 0.9, \"review\": 0.5}")
    match, review = value["match"], value.get("review", value["match"])
    for name, v in (("match", match), ("review", review)):
        if not isinstance(v, int | float) or not 0 < v <= 1:
            raise ConfigError(f"thresholds.{name} must be a probability in (0, 1], got {v!r}")
    if review > match:
        raise ConfigError("thresholds.review must not exceed thresholds.match")
    return Thresholds(float(match), float(review))

"""Glossary writes: load the seed (or any file of terms) idempotently, with history."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from canonical.models import GlossaryTerm

SEED_PATH = Path(__file__).resolve().parent.parent / "seeds" / "glossary.json"
_FIELDS = ("name", "definition", "domain", "owner", "status", "synonyms", "canonical_attribute", "platform_names")


@dataclass(frozen=True)
class GlossaryLoadResult:
    created: int
    updated: int
    unchanged: int


def glossary_terms_load(*, terms: Sequence[Mapping[str, Any]], reason: str = "glossary load") -> GlossaryLoadResult:
    """Create or update terms by slug, then link related terms. Invalid input changes nothing."""
    slugs = {t.get("slug") for t in terms}
    created = updated = unchanged = 0
    with transaction.atomic():
        by_slug: dict[str, GlossaryTerm] = {}
        for data in terms:
            missing = [f for f in ("slug", *_FIELDS[:5]) if not data.get(f)]
            if missing:
                raise ValidationError(f"glossary term {data.get('slug') or data.get('name')!r}: missing {missing}")
            term = GlossaryTerm.objects.filter(slug=data["slug"]).first()
            is_new = term is None
            term = term or GlossaryTerm(slug=data["slug"])
            before = {f: getattr(term, f) for f in _FIELDS}
            for field in _FIELDS:
                setattr(term, field, data.get(field, getattr(term, field)))
            if is_new or before != {f: getattr(term, f) for f in _FIELDS}:
                term.full_clean()
                term._change_reason = reason
                term.save()
                created, updated = created + is_new, updated + (not is_new)
            else:
                unchanged += 1
            by_slug[term.slug] = term
        for data in terms:
            related = set(data.get("related", []))
            known = set(GlossaryTerm.objects.filter(slug__in=related).values_list("slug", flat=True))
            unknown = related - slugs - known
            if unknown:
                raise ValidationError(f"glossary term {data['slug']!r}: unknown related terms {sorted(unknown)}")
            term = by_slug[data["slug"]]
            wanted = set(GlossaryTerm.objects.filter(slug__in=related).values_list("pk", flat=True))
            if wanted - set(term.related.values_list("pk", flat=True)):
                term.related.add(*wanted)
    return GlossaryLoadResult(created=created, updated=updated, unchanged=unchanged)


def glossary_seed_load() -> GlossaryLoadResult:
    return glossary_terms_load(terms=json.loads(SEED_PATH.read_text()), reason="glossary seed")

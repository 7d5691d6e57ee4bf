"""Load glossary terms (the bundled seed by default) idempotently."""

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from canonical.services.glossary import SEED_PATH, glossary_terms_load


class Command(BaseCommand):
    help = "Create or update glossary terms from a JSON file (default: the bundled seed)."

    def add_arguments(self, parser):
        parser.add_argument("--file", type=Path, default=SEED_PATH, help="A JSON list of terms.")

    def handle(self, *args, **options):
        path: Path = options["file"]
        try:
            terms = json.loads(path.read_text())
        except FileNotFoundError as exc:
            raise CommandError(f"{path}: no such file") from exc
        except json.JSONDecodeError as exc:
            raise CommandError(f"{path}: not valid JSON ({exc})") from exc
        if not isinstance(terms, list):
            raise CommandError(f"{path}: expected a JSON list of terms")
        try:
            result = glossary_terms_load(terms=terms, reason=f"loaded from {path.name}")
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(
            f"glossary: {result.created} created, {result.updated} updated, {result.unchanged} unchanged"
        )

"""Re-match an entity type in batch: a dry run by default, ``--apply`` to make the changes."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from canonical.matching.spec import ConfigError
from canonical.services.matching import hub_spec
from canonical.services.rematch import entity_rematch, match_records_rebuild, rematch_fingerprint


class Command(BaseCommand):
    help = ("Re-match every source record of an entity type with the current (or proposed) rules. Prints what "
            "would merge, split or move; changes nothing unless --apply.")

    def add_arguments(self, parser):
        parser.add_argument("entity_type", choices=["client", "engagement", "milestone", "contract"])
        parser.add_argument("--rules", type=Path, help="Proposed rules (JSON) to dry-run, or with --apply, adopt.")
        parser.add_argument("--train", action="store_true", help="Learn the weights from the data (EM) first.")
        parser.add_argument("--rebuild", action="store_true", help="Rebuild the normalised match views first.")
        parser.add_argument("--apply", metavar="DRY_RUN_ID",
                            help="Make the changes shown by the dry run that printed this id.")
        parser.add_argument("--actor", default="manage.py rematch")

    def handle(self, *args, entity_type: str, **options):
        spec = None
        if options["rules"]:
            try:
                spec = json.loads(options["rules"].read_text())
                hub_spec(spec)
            except OSError as exc:
                raise CommandError(f"{options['rules']}: {exc.strerror}") from exc
            except (json.JSONDecodeError, ConfigError, KeyError, TypeError) as exc:
                raise CommandError(f"{options['rules']}: invalid rules ({exc})") from exc
        if options["rebuild"]:
            self.stderr.write(f"rebuilt {match_records_rebuild(entity_type=entity_type)} match views")
        report = entity_rematch(entity_type=entity_type, spec=spec, train=options["train"])
        dry_run_id = rematch_fingerprint(report, spec)
        if options["apply"]:
            if options["apply"] != dry_run_id:
                raise CommandError("the impact differs from the dry run with that id (or there was none): "
                                   "run the dry run again and read it")
            report = entity_rematch(entity_type=entity_type, spec=spec, apply=True, train=options["train"],
                                    actor=options["actor"], reason="manage.py rematch")
        self.stdout.write(json.dumps({**report.to_dict(), "dry_run_id": dry_run_id}, indent=2, default=str))
        if not options["apply"]:
            self.stderr.write(f"dry run: nothing changed; to make these changes: --apply {dry_run_id}")

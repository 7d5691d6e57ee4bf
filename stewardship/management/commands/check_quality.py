"""Check golden records against the data-quality rules now, and show what each rule has open."""

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from canonical.registry import MODELS
from stewardship.models import DataQualityRule, StewardTask, TaskKind
from stewardship.models.tasks import ACTIVE_STATUSES
from stewardship.services.quality import PREFIX, quality_check_all, quality_feed_follow, rule_problem


class Command(BaseCommand):
    help = "Run the data-quality rules on every golden record (or one entity type), or follow the change feed."

    def add_arguments(self, parser):
        parser.add_argument("--entity", choices=list(MODELS), help="Check only this entity type.")
        parser.add_argument("--feed", action="store_true",
                            help="Check only the records changed since the last run (follow the change feed).")

    def handle(self, *args, **options):
        if options["feed"] and options["entity"]:
            raise CommandError("--feed follows every entity type; leave out --entity")
        if options["feed"]:
            events = checked = opened = resolved = 0
            while True:
                batch = quality_feed_follow()
                events += batch["events"]
                checked, opened, resolved = (checked + batch["checked"], opened + batch["opened"],
                                             resolved + batch["resolved"])
                if not batch["events"]:
                    break
            self.stdout.write(f"followed {events} changes to position {batch['position']}: checked {checked} records, "
                              f"opened {opened} tasks, resolved {resolved}")
        else:
            result = quality_check_all(entity_type=options["entity"])
            self.stdout.write(f"checked {result.checked} records: {len(result.violations)} violations, "
                              f"opened {result.opened} tasks, resolved {result.resolved}")
        self._rules(options["entity"])

    def _rules(self, entity_type: str | None) -> None:
        rules = DataQualityRule.objects.all()
        if entity_type:
            rules = rules.filter(entity_type=entity_type)
        open_tasks = {}
        for key in (StewardTask.objects.filter(kind=TaskKind.DATA_QUALITY, status__in=ACTIVE_STATUSES,
                                               cause_key__startswith=PREFIX)
                    .values_list("cause_key", flat=True)):
            code = key[len(PREFIX):].partition(":")[0]
            open_tasks[code] = open_tasks.get(code, 0) + 1
        self.stdout.write(f"{'rule':48} {'entity':14} {'kind':34} {'prio':>4} {'open':>5}")
        for rule in rules:
            state = "" if rule.enabled else "  (disabled)"
            problem = rule_problem(rule) if rule.enabled else None
            if problem:
                state = f"  (cannot run: {problem})"
            self.stdout.write(f"{rule.code:48} {rule.entity_type:14} {rule.kind:34} {rule.priority:>4} "
                              f"{open_tasks.get(rule.code, 0):>5}{state}")
        total = (StewardTask.objects.filter(kind=TaskKind.DATA_QUALITY, status__in=ACTIVE_STATUSES)
                 .aggregate(n=Count("pk"))["n"])
        self.stdout.write(f"open data-quality tasks: {total}")

"""Run the business-exception rules now, and show what each has open and the money at stake."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, Sum

from stewardship.models import BusinessExceptionRule, StewardTask, TaskKind
from stewardship.models.tasks import ACTIVE_STATUSES
from stewardship.services.exceptions import LOADERS, business_exceptions_check, cause_key


class Command(BaseCommand):
    help = "Run the business-exception rules (all, or those named) as of today or a given date."

    def add_arguments(self, parser):
        parser.add_argument("--rule", action="append", dest="codes", metavar="CODE",
                            help="Run only this rule (repeatable).")
        parser.add_argument("--as-of", type=date.fromisoformat, metavar="YYYY-MM-DD",
                            help="The day to judge grace periods from (default: today).")

    def handle(self, *args, **options):
        codes = options["codes"]
        if codes:
            unknown = set(codes) - set(BusinessExceptionRule.objects.values_list("code", flat=True))
            if unknown:
                raise CommandError(f"no such rule: {', '.join(sorted(unknown))}")
        results = business_exceptions_check(today=options["as_of"], codes=codes)
        self.stdout.write(f"{'rule':36} {'grace':>5} {'found':>5} {'opened':>6} {'resolved':>8} {'open':>5}  at stake")
        for rule in BusinessExceptionRule.objects.filter(code__in=results):
            result = results[rule.code]
            active = StewardTask.objects.filter(kind=TaskKind.BUSINESS_EXCEPTION, status__in=ACTIVE_STATUSES,
                                                cause_key__startswith=cause_key(rule.code, ""))
            stake = ", ".join(f"{row['currency']} {row['total']:,.2f}" for row in
                              active.exclude(amount__isnull=True).values("currency").annotate(total=Sum("amount"))
                              .order_by("currency"))
            state = "" if rule.enabled else "  (disabled)"
            if rule.enabled and rule.kind not in LOADERS:
                state = f"  (cannot run: unknown kind {rule.kind!r})"
            self.stdout.write(f"{rule.code:36} {rule.grace_days:>5} {result['findings']:>5} {result['opened']:>6} "
                              f"{result['resolved']:>8} {active.aggregate(n=Count('pk'))['n']:>5}  {stake}{state}")

"""How the console shows a task's priority, due date, age and money at stake (list and detail alike)."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.html import format_html

from stewardship.models import StewardTask


def duration(delta: timedelta) -> str:
    """A short, readable span: "3 d 4 h", "5 h", "12 min"."""
    seconds = max(int(delta.total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    if days:
        return f"{days} d {hours} h" if hours and days < 10 else f"{days} d"
    if hours:
        return f"{hours} h"
    return f"{max(rest // 60, 1)} min"


def priority_badge(task: StewardTask) -> str:
    return format_html('<span class="sc-badge sc-p{}">{}</span>', task.priority, task.get_priority_display())


def due(task: StewardTask, *, full: bool = False) -> str:
    """How long is left (or how late it is), the date in the tooltip; ``full`` shows the date too."""
    now = timezone.now()
    when = timezone.localtime(task.due_at).strftime("%d %b %Y %H:%M")
    if not task.is_active:
        return format_html('<span class="sc-quiet">{}</span>', when)
    if task.is_overdue:
        text, css = f"{duration(now - task.due_at)} overdue", "sc-overdue"
    else:
        text, css = f"in {duration(task.due_at - now)}", ""
    if full:
        return format_html('{} <span class="{}">({})</span>', when, css or "sc-quiet", text)
    return format_html('<span class="{}" title="due {}">{}</span>', css, when, text)


def age(task: StewardTask) -> str:
    return duration(timezone.now() - task.created_at)


def money(amount: Decimal | None, currency: str) -> str:
    if amount is None:
        return "-"
    return format_html('<span class="sc-money">{} <small>{}</small></span>', f"{amount:,.2f}", currency)


def status_badge(task: StewardTask) -> str:
    label = task.get_status_display()
    if task.resolution:
        label = f"{label}: {task.get_resolution_display()}"
    return format_html('<span class="sc-badge sc-status-{}">{}</span>', task.status, label)


def console_context(site, request) -> dict:
    """What every console page holds: the admin's own context, without the app sidebar (the queues are wide
    tables; the console has its own navigation: tabs, steward home)."""
    return {**site.each_context(request), "is_nav_sidebar_enabled": False}

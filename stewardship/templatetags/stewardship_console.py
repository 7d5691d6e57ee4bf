"""The steward queues' counts on the admin index."""

from django import template
from django.urls import reverse

from stewardship.admin.home import queue_counts

register = template.Library()


@register.inclusion_tag("admin/stewardship/includes/queue_summary.html", takes_context=True)
def steward_queues(context) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.has_perm("stewardship.view_stewardtask"):
        return {"queues": []}
    return {"queues": queue_counts(user), "home_url": reverse("admin:stewardship_stewardtask_home")}

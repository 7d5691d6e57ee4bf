"""Links from the console to the records tasks are about."""

from collections.abc import Iterable
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from canonical.registry import entity_type_for_golden_id, model_for


def golden_url(golden_id: str, pk: Any = None) -> str:
    """The admin page of a golden record (its list, searched by golden id, when the UUID is not at hand)."""
    entity_type = entity_type_for_golden_id(golden_id)
    if entity_type is None:
        return ""
    opts = model_for(entity_type)._meta
    try:
        if pk is not None:
            return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk])
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist") + "?" + urlencode({"q": golden_id})
    except NoReverseMatch:
        return ""


def record_url(record: Any) -> str:
    opts = record._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[record.pk])


def golden_links(golden_ids: Iterable[str], record_ids: Iterable[Any] = ()) -> str:
    """Golden ids as links; task subjects keep ids and golden ids in step, so the UUIDs save a lookup."""
    golden_ids, record_ids = list(golden_ids), list(record_ids)
    pks = record_ids if len(record_ids) == len(golden_ids) else [None] * len(golden_ids)
    links = [(golden_url(g, pk), g) for g, pk in zip(golden_ids, pks, strict=True)]
    return format_html_join(", ", '<a href="{}">{}</a>', links) if links else format_html("{}", "-")


def next_url(request, default: str) -> str:
    """Where a POST asked to go back to, if it is a page of this site."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default

"""A steward's edit of a golden record is a proposal: a field diff against today's values and the platforms
that will receive it. Edits of sensitive attributes wait for a second steward; the rest apply at once.
Applied edits become steward overrides (lineage "steward_override") with the reason given."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from canonical.registry import model_for
from canonical.services.golden import golden_record_override_set
from connectors.models import Subscription
from stewardship.models import EditProposal, ProposalStatus
from stewardship.services.tasks import TaskStateError, actor_label
from stewardship.services.values import value_plain, value_same

# Attributes whose edit needs a second steward's approval.
SENSITIVE = {
    "client": frozenset({"tax_id", "legal_name", "billing_street", "billing_city", "billing_region",
                         "billing_postcode", "billing_country"}),
    "contract": frozenset({"value_amount", "currency"}),
    "engagement": frozenset({"budget_amount"}),
    "milestone": frozenset({"amount"}),
}


@dataclass(frozen=True)
class FieldChange:
    attribute: str
    before: Any
    after: Any
    sensitive: bool


@dataclass(frozen=True)
class EditPreview:
    changes: list[FieldChange]
    targets: list[str]  # systems that will receive the change

    @property
    def needs_approval(self) -> bool:
        return any(change.sensitive for change in self.changes)


def edit_preview(*, record: Any, changes: Mapping[str, Any]) -> EditPreview:
    """The diff against today's values (unchanged attributes dropped) and the subscribing systems it reaches."""
    model = type(record)
    unknown = [a for a in changes if a not in model.SURVIVED_ATTRIBUTES]
    if unknown:
        raise ValidationError({a: [f"not an editable attribute of a {model.ENTITY_TYPE}"] for a in unknown})
    sensitive = SENSITIVE.get(model.ENTITY_TYPE, frozenset())
    diff = [FieldChange(a, value_plain(getattr(record, a)), v, a in sensitive) for a, v in changes.items()
            if not value_same(value_plain(getattr(record, a)), v)]
    if not diff:
        raise ValidationError("nothing to change: the record already holds these values")
    attributes = {c.attribute for c in diff}
    data = {a: value_plain(getattr(record, a)) for a in model.SURVIVED_ATTRIBUTES}
    data |= {c.attribute: c.after for c in diff}
    subscriptions = Subscription.objects.select_related("system").filter(
        entity_type=model.ENTITY_TYPE, enabled=True, system__enabled=True)
    targets = sorted({
        s.system.key for s in subscriptions
        if (not s.fields or attributes & set(s.fields))
        and all(value_same(data.get(k), v) for k, v in s.conditions.items())
    })
    return EditPreview(changes=diff, targets=targets)


def edit_propose(*, record: Any, changes: Mapping[str, Any], reason: str, user: AbstractBaseUser | None,
                 actor: str = "") -> EditProposal:
    """Record the proposal; apply it now unless it touches a sensitive attribute."""
    if not reason.strip():
        raise ValidationError({"reason": ["say why the value is changing"]})
    preview = edit_preview(record=record, changes=changes)
    with transaction.atomic():
        proposal = EditProposal.objects.create(
            entity_type=record.ENTITY_TYPE, record_id=record.pk, golden_id=record.golden_id,
            changes={c.attribute: c.after for c in preview.changes},
            before={c.attribute: c.before for c in preview.changes},
            sensitive_attributes=[c.attribute for c in preview.changes if c.sensitive],
            reason=reason[:300], proposed_by=user, proposed_by_name=actor_label(user, actor),
        )
        if not preview.needs_approval:
            _apply(proposal, user=user, actor=actor, note="applied at once (no sensitive attribute)")
    return proposal


def _apply(proposal: EditProposal, *, user: AbstractBaseUser | None, actor: str, note: str) -> None:
    record = model_for(proposal.entity_type).objects.select_for_update().get(pk=proposal.record_id)
    moved = [a for a, before in proposal.before.items() if not value_same(value_plain(getattr(record, a)), before)]
    if moved:
        raise TaskStateError(f"{', '.join(moved)} changed since this edit was proposed; propose it again.")
    for attribute, value in proposal.changes.items():
        golden_record_override_set(record=record, attribute=attribute, value=value, actor=proposal.proposed_by_name,
                                   reason=proposal.reason)
        record.refresh_from_db()
    proposal.status = ProposalStatus.APPLIED
    proposal.decided_by, proposal.decided_by_name = user, actor_label(user, actor)
    proposal.decision_note, proposal.decided_at = note[:300], timezone.now()
    proposal._change_reason = f"applied: {note}"[:100]
    proposal.save()


def _pending(proposal: EditProposal) -> EditProposal:
    proposal = EditProposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status != ProposalStatus.PENDING:
        raise TaskStateError(f"This edit is already {proposal.get_status_display().lower()}.")
    return proposal


@transaction.atomic
def edit_approve(*, proposal: EditProposal, user: AbstractBaseUser, note: str = "") -> EditProposal:
    """A second steward approves a sensitive edit; it takes effect now."""
    proposal = _pending(proposal)
    if proposal.proposed_by_id is not None and proposal.proposed_by_id == user.pk:
        raise TaskStateError("A sensitive edit needs a second steward: you cannot approve your own.")
    _apply(proposal, user=user, actor="", note=note or "approved")
    return proposal


@transaction.atomic
def edit_reject(*, proposal: EditProposal, user: AbstractBaseUser, note: str) -> EditProposal:
    proposal = _pending(proposal)
    own = proposal.proposed_by_id == user.pk
    proposal.status = ProposalStatus.WITHDRAWN if own else ProposalStatus.REJECTED
    proposal.decided_by, proposal.decided_by_name = user, actor_label(user)
    proposal.decision_note, proposal.decided_at = note[:300], timezone.now()
    proposal._change_reason = f"{proposal.status}: {note}"[:100]
    proposal.save()
    return proposal

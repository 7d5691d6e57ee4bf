"""Shapes of steward tasks in the API, and the inputs of claims and decisions."""

from rest_framework import serializers

from stewardship.models import StewardTask, TaskComment
from stewardship.services.decisions import DECISIONS


class TaskCommentSerializer(serializers.ModelSerializer):
    class Meta:
        model = TaskComment
        fields = ("id", "author_name", "body", "created_at")


class StewardTaskSerializer(serializers.ModelSerializer):
    assignee = serializers.CharField(source="assignee.username", default=None, read_only=True)
    overdue = serializers.BooleanField(source="is_overdue", read_only=True)
    amount = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True, read_only=True)

    class Meta:
        model = StewardTask
        fields = ("id", "kind", "title", "status", "priority", "domain", "record_ids", "golden_ids", "assignee",
                  "due_at", "overdue", "deferred_until", "amount", "currency", "details", "potential_match",
                  "delivery", "resolution", "resolution_note", "resolved_by_name", "resolved_at", "created_at",
                  "updated_at")


class StewardTaskDetailSerializer(StewardTaskSerializer):
    comments = TaskCommentSerializer(many=True, read_only=True)

    class Meta(StewardTaskSerializer.Meta):
        fields = (*StewardTaskSerializer.Meta.fields, "comments")


class ClaimInput(serializers.Serializer):
    assignee = serializers.CharField(required=False, help_text=(
        "The steward (username) taking the task. A signed-in steward claims for themselves; an API client "
        "acting for a steward names them."))


class DecisionInput(serializers.Serializer):
    decision = serializers.ChoiceField(choices=DECISIONS)
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    survivor = serializers.CharField(required=False, help_text=(
        "merge: the golden id that survives ('a' or 'b': the task's first or second record)."))
    keep = serializers.DictField(child=serializers.CharField(), required=False, help_text=(
        "merge: for conflicting attributes, whose value survives: {\"legal_name\": \"b\"} or a golden id."))


class CommentInput(serializers.Serializer):
    body = serializers.CharField(max_length=4000)

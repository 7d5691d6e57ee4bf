"""Stewardship: the tasks stewards work, the rules that raise them, and the edits they propose."""

from stewardship.models.proposals import EditProposal, ProposalStatus
from stewardship.models.rules import BusinessExceptionRule, DataQualityRule, FeedCursor
from stewardship.models.tasks import (
    BulkAction,
    Priority,
    Resolution,
    StewardTask,
    TaskComment,
    TaskKind,
    TaskSLA,
    TaskStatus,
)

__all__ = [
    "BulkAction",
    "BusinessExceptionRule",
    "DataQualityRule",
    "EditProposal",
    "FeedCursor",
    "Priority",
    "ProposalStatus",
    "Resolution",
    "StewardTask",
    "TaskComment",
    "TaskKind",
    "TaskSLA",
    "TaskStatus",
]

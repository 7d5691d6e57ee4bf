"""Declarative rules: data-quality checks per entity and scheduled business-exception checks."""

from django.db import models

from hub.models import tracked


class DataQualityRule(models.Model):
    """One check of golden records of one entity type; ``kind`` names a check in stewardship/rules and
    ``params`` configures it (e.g. ``{"pattern": "^[A-Z]{3}$"}``)."""

    code = models.SlugField(max_length=80, primary_key=True)
    name = models.CharField(max_length=200)
    entity_type = models.CharField(max_length=32)
    kind = models.CharField(max_length=32, help_text="The check: required, format, reference, checksum, ...")
    attribute = models.CharField(max_length=100, blank=True)
    params = models.JSONField(default=dict, blank=True)
    priority = models.PositiveSmallIntegerField(default=3)
    description = models.TextField(blank=True)
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = tracked()

    class Meta:
        ordering = ["entity_type", "code"]
        verbose_name = "data-quality rule"

    def __str__(self) -> str:
        return self.name


class BusinessExceptionRule(models.Model):
    """A scheduled question finance or delivery asks, with a grace period before it becomes an exception."""

    code = models.SlugField(max_length=80, primary_key=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=48, help_text="The built-in check this rule configures.")
    grace_days = models.PositiveIntegerField(default=0)
    params = models.JSONField(default=dict, blank=True)
    priority = models.PositiveSmallIntegerField(default=2)
    description = models.TextField(blank=True)
    enabled = models.BooleanField(default=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = tracked()

    class Meta:
        ordering = ["code"]
        verbose_name = "business-exception rule"

    def __str__(self) -> str:
        return self.name


class FeedCursor(models.Model):
    """How far stewardship has followed the change feed (evaluating rules on changed records)."""

    name = models.CharField(max_length=32, primary_key=True)
    position = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} at {self.position}"

"""The steward console in the Django admin: queues, the side-by-side match page, proposals, bulk actions
and their undo, rules and SLAs, and steward pages for golden records. One module per admin."""

from django.contrib import admin

from stewardship.admin import bulk, golden, proposals, rules, tasks  # noqa: F401 (each registers its admin)

# The admin index opens with the steward's queues.
admin.site.index_template = "admin/stewardship/index.html"

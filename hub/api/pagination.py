"""Cursor pagination with a capped page size; a malformed cursor is a 400, not a 404."""

from django.conf import settings
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError

from hub.api.params import parse_int


class CursorPagination(pagination.CursorPagination):
    page_size_query_param = "page_size"
    max_page_size = settings.API_MAX_PAGE_SIZE
    ordering = "golden_id"

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except NotFound as exc:
            raise ValidationError({self.cursor_query_param: ["Invalid cursor."]}) from exc

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        # Over the cap is clamped, as DRF does; nonsense is a 400.
        return min(parse_int(self.page_size_query_param, raw, default=self.page_size, minimum=1), self.max_page_size)


class HistoryPagination(CursorPagination):
    ordering = "-history_id"

"""Request middleware: every request runs under a correlation id, echoed in the response."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from hub import correlation


class CorrelationIdMiddleware:
    """Take the caller's ``X-Correlation-ID`` (or make one), bind it for the request, echo it back."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        supplied = correlation.clean(request.headers.get(correlation.HEADER))
        with correlation.bind(supplied) as cid:
            request.correlation_id = cid
            response = self.get_response(request)
        response[correlation.HEADER] = cid
        return response

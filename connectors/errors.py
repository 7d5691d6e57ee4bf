"""The small family of errors every vendor client maps its failures to.

Retryable errors are retried with backoff (honouring the platform's Retry-After); terminal ones become a
dead letter at once. Connectors and the sync services never look at HTTP status codes themselves.
"""


class ConnectorError(Exception):
    """Base of every connector failure."""

    retryable = False

    def __init__(self, message: str, *, status: int | None = None, body: object = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class Retryable(ConnectorError):
    retryable = True


class RateLimited(Retryable):
    """The platform throttled us; ``retry_after`` seconds if it said so."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class Unavailable(Retryable):
    """5xx, timeouts, connection failures: the platform may be back soon."""


class AuthFailed(ConnectorError):
    """Credentials were refused (after one re-authentication)."""


class Rejected(ConnectorError):
    """The platform refused the request itself (validation, not found, duplicate): retrying changes nothing."""

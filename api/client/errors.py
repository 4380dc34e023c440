"""Typed errors of the service client, built from the services' JSON error shape."""

from yakku.errors import YakkuError


class ServiceError(YakkuError):
    """A service answered with an error; status, code, message and fields are the service's own."""

    def __init__(self, service: str, status: int, code: str, message: str, fields: dict | None = None):
        super().__init__(message, fields=fields)
        self.service = service
        self.status = status
        self.code = code

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.service}: {self.status} {self.code})"


class ServiceRejected(ServiceError):
    """The request was refused (4xx): calling again with the same input will not help."""


class ServiceNotFound(ServiceRejected):
    """404 from the service."""


class ServiceConflict(ServiceRejected):
    """409 from the service."""


class ServiceAuthError(ServiceRejected):
    """401 or 403 from the service."""


class ServiceFailure(ServiceError):
    """The service failed (5xx other than unavailability)."""


class ServiceUnavailable(YakkuError):
    """No answer: connection refused, timeout, 502/503/504, or the circuit breaker is open."""

    status = 503
    code = "service_unavailable"

    def __init__(self, service: str, reason: str):
        super().__init__(f"The {service} service is unavailable right now ({reason}).")
        self.service = service
        self.reason = reason


class BreakerOpen(ServiceUnavailable):
    """The breaker for the service is open: calls fail fast until it lets one through."""


BY_STATUS = {404: ServiceNotFound, 409: ServiceConflict, 401: ServiceAuthError, 403: ServiceAuthError}


def from_response(service: str, status: int, body: object) -> ServiceError:
    """The typed exception for an error answer, read from {"error": {"code", "message", "fields"}}."""
    detail = body.get("error") if isinstance(body, dict) else None
    if not isinstance(detail, dict):
        detail = {"code": "error", "message": f"{service} answered {status}"}
    cls = BY_STATUS.get(status) or (ServiceRejected if status < 500 else ServiceFailure)
    return cls(service, status, detail.get("code", "error"), detail.get("message", ""), detail.get("fields"))

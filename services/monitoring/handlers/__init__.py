"""Monitoring use cases: read models kept from other services' events (`read_models`), the
committee's records (`records`, `evaluations`), and the reports made from both (`reports`)."""


class NotFound(Exception):
    """Nothing of that id in this province (HTTP 404)."""


class Forbidden(Exception):
    """The caller may not do this (HTTP 403)."""


class Conflict(Exception):
    """Not possible in the current state (HTTP 409)."""


class Invalid(Exception):
    """A field of the request is wrong in a way only the database can tell (HTTP 422)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field

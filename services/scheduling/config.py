"""The scheduling service's own settings, from the environment like the shared ones (prefix OTOP_)."""

from fastapi import Request
from pydantic import Field, SecretStr

from shared.errors import Unavailable
from shared.settings import ServiceSettings


class SchedulingSettings(ServiceSettings):
    invitation_link_key: SecretStr | None = Field(
        default=None,
        min_length=32,
        description=(
            "HMAC key of the producers' invitation links (accept or decline without a login); without it no "
            "link is issued or honoured"
        ),
    )

    def link_key(self) -> str:
        """The key, or a 503 that says which setting is missing."""
        if self.invitation_link_key is None:
            raise Unavailable(
                "invitation links are not configured: set OTOP_INVITATION_LINK_KEY (32 characters "
                "or more) on the scheduling service",
            )
        return self.invitation_link_key.get_secret_value()


def scheduling_settings(request: Request) -> SchedulingSettings:
    """FastAPI dependency: the scheduling settings of the running app (completed from the environment)."""
    state = request.app.state
    if not isinstance(getattr(state, "scheduling_settings", None), SchedulingSettings):
        given = state.settings
        state.scheduling_settings = (
            given if isinstance(given, SchedulingSettings) else SchedulingSettings(**given.model_dump())
        )
    return state.scheduling_settings

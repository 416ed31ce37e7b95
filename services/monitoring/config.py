"""The monitoring service's own settings, from the environment like the shared ones (prefix OTOP_)."""

from fastapi import Request
from pydantic import Field

from shared.settings import ServiceSettings


class MonitoringSettings(ServiceSettings):
    monitoring_evaluation_due_days: int = Field(
        default=3, ge=0, le=60, description=("Days after a market day within which its evaluation is on time")
    )


def monitoring_settings(request: Request) -> MonitoringSettings:
    """FastAPI dependency: the monitoring settings of the running app."""
    state = request.app.state
    if not isinstance(getattr(state, "monitoring_settings", None), MonitoringSettings):
        given = state.settings
        state.monitoring_settings = (
            given if isinstance(given, MonitoringSettings) else MonitoringSettings(**given.model_dump())
        )
    return state.monitoring_settings

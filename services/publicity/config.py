"""The publicity service's own settings, from the environment like the shared ones (prefix OTOP_)."""

from fastapi import Request
from pydantic import Field

from shared.settings import ServiceSettings


class PublicitySettings(ServiceSettings):
    public_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^/?#]+$",
        description=(
            "The site's public origin, e.g. https://otop.example.go.th: canonical addresses, share previews "
            "and the sitemap use it; unset, the request's own (the gateway passes the Host on)"
        ),
    )
    page_memo_s: float = Field(
        default=1.0,
        ge=0,
        le=10,
        description=(
            "How long a replica reuses a page it rendered (0: never): under a burst of readers each page is "
            "rendered at most once a second per replica, whatever the gateway caches"
        ),
    )
    page_max_age_s: int = Field(
        default=10, ge=0, le=60, description="How long a browser or the gateway may keep a public page"
    )
    publicity_photos_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^?#]+[^/?#]$",
        description=(
            "The registry's base URL, e.g. http://registry:8000: share images and posters show the lineup's "
            "photos from its public route /photos/{id}/card.jpg; unset (or a photo not fetched), none"
        ),
    )


def publicity_settings(request: Request) -> PublicitySettings:
    """FastAPI dependency: the publicity settings of the running app."""
    state = request.app.state
    if not isinstance(getattr(state, "publicity_settings", None), PublicitySettings):
        given = state.settings
        state.publicity_settings = (
            given if isinstance(given, PublicitySettings) else PublicitySettings(**given.model_dump())
        )
    return state.publicity_settings

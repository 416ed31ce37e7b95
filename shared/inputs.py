"""The base of every HTTP input model: what all services ask of a caller's data."""

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


class Input(BaseModel):
    """Input from a caller: unknown fields refused, text stripped and storable."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        """PostgreSQL text cannot hold NUL: refused here (422), not by the database (500)."""
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(text, str) and "\x00" in text for text in texts):
            raise ValueError("must not contain NUL characters")
        return value

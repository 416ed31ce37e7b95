"""Events published by the monitoring service."""

from uuid import UUID

from pydantic import Field

from shared import topics
from shared.events import Payload, contract


@contract("monitoring.evaluation.submitted", 1, topics.MONITORING_EVALUATIONS)
class EvaluationSubmitted(Payload):
    evaluation_id: UUID
    market_day_id: UUID
    overall_score: int = Field(ge=1, le=5)

    def key(self) -> str:
        return str(self.evaluation_id)

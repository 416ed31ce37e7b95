"""Monitoring's Kafka subscribers: thin, each maps event types to a read-model handler; all consume a batch
of records at a time (shared.batch.BatchConsumer, shared.read_models)."""

from functools import partial

from services.monitoring import tables
from services.monitoring.handlers import budget
from services.monitoring.handlers import read_models as rm
from shared import topics
from shared.batch import BatchConsumer
from shared.contracts.budget import PackingListChanged, ProposalState, PurchaseState
from shared.contracts.registry import MentoringGroupState, ProducerState, ProductState
from shared.contracts.scheduling import (
    AttendanceRecorded,
    InvitationSent,
    MarketDayState,
    PlanSet,
    VenueRegistered,
    VenueUpdated,
)
from shared.read_models import Events, States, read_model_consumers
from shared.service import Database
from shared.settings import ServiceSettings

# group id -> what it keeps, every group a batch at a time (an import publishes thousands of products at once,
# a national season tens of thousands of invitations). The registry's states keep their first registered_at;
# what they change in the outcomes view's totals runs after them in the same transaction.
READ_MODELS: dict[str, States | Events] = {
    "monitoring.products": States(
        topics.REGISTRY_PRODUCTS,
        tables.products,
        ProductState,
        rm.product_row,
        insert_only=("registered_at",),
        after=rm.products_changed,
    ),
    "monitoring.producers": States(
        topics.REGISTRY_PRODUCERS,
        tables.producers,
        ProducerState,
        rm.producer_row,
        insert_only=("registered_at",),
        after=rm.producers_changed,
    ),
    "monitoring.mentoring": States(
        topics.REGISTRY_MENTORING,
        tables.mentoring_groups,
        MentoringGroupState,
        rm.mentoring_group_row,
        insert_only=("registered_at",),
        after=rm.mentoring_changed,
    ),
    "monitoring.venues": Events(
        topics.SCHEDULING_VENUES,
        {VenueRegistered: rm.venue_changed, VenueUpdated: rm.venue_changed},
    ),
    "monitoring.plans": Events(topics.SCHEDULING_PLANS, {PlanSet: rm.plan_set}),
    "monitoring.market_days": Events(
        topics.SCHEDULING_MARKET_DAYS,
        {
            MarketDayState: rm.market_day_changed,  # and its subclasses: (re)scheduled, cancelled, held
            InvitationSent: rm.invitation_changed,  # and accepted, declined, withdrawn
            AttendanceRecorded: rm.attendance_recorded,
        },
    ),
    "monitoring.budget_proposals": Events(
        topics.BUDGET_PROPOSALS,
        {ProposalState: budget.proposal_changed},  # submitted, approved, returned
    ),
    "monitoring.budget_spending": Events(
        topics.BUDGET_SPENDING,
        {PurchaseState: budget.purchase_changed},  # requested, bought, receipt attached, received
    ),
    "monitoring.budget_materials": Events(
        topics.BUDGET_MATERIALS,
        {PackingListChanged: budget.packing_list_changed},
    ),
}
SALES_GROUP = "monitoring.sales"  # sales events come in batches (rm.sales_changed): the busiest stream
GROUPS: dict[str, str] = {
    **{group_id: model.topic for group_id, model in READ_MODELS.items()},
    SALES_GROUP: topics.SALES_RECORDED,
}


def consumers(db: Database, settings: ServiceSettings) -> list[BatchConsumer]:
    retries = settings.retry_options()
    return [
        *read_model_consumers(db.unit_of_work, db.inbox, retries, READ_MODELS),
        # Up to 2000 sales events a transaction, like the sales ingress: its fixed costs spread further.
        BatchConsumer(
            group_id=SALES_GROUP,
            topic=topics.SALES_RECORDED,
            unit_of_work=db.unit_of_work,
            handler=partial(rm.sales_changed, db.inbox, SALES_GROUP),
            max_records=2000,
            **retries,
        ),
    ]

"""Monitoring's Kafka subscribers: thin, each maps event types to a read-model handler; all consume a batch
of records at a time (shared.batch.BatchConsumer, shared.read_models)."""

from functools import partial

from sqlalchemy import Table

from services.monitoring import tables
from services.monitoring.handlers import budget
from services.monitoring.handlers import read_models as rm
from shared import topics
from shared.batch import BatchConsumer
from shared.consumer import Handler
from shared.contracts.budget import (
    PackingListChanged,
    ProposalApproved,
    ProposalReturned,
    ProposalSubmitted,
    PurchaseBought,
    PurchaseReceiptAttached,
    PurchaseReceived,
    PurchaseRequested,
)
from shared.contracts.registry import MentoringGroupState, ProducerState, ProductState
from shared.contracts.scheduling import (
    AttendanceRecorded,
    InvitationAccepted,
    InvitationDeclined,
    InvitationSent,
    InvitationWithdrawn,
    MarketDayCancelled,
    MarketDayHeld,
    MarketDayRescheduled,
    MarketDayScheduled,
    PlanSet,
    VenueRegistered,
    VenueUpdated,
)
from shared.events import Payload
from shared.read_models import RowOf, in_order, newest_state
from shared.service import Database
from shared.settings import ServiceSettings

# The registry's products and producers, a batch at a time (an import publishes thousands at once):
# group id -> (topic, read-model table, state, row of an event).
REGISTRY: dict[str, tuple[str, Table, type[Payload], RowOf]] = {
    "monitoring.products": (topics.REGISTRY_PRODUCTS, tables.products, ProductState, rm.product_row),
    "monitoring.producers": (topics.REGISTRY_PRODUCERS, tables.producers, ProducerState, rm.producer_row),
    "monitoring.mentoring": (
        topics.REGISTRY_MENTORING,
        tables.mentoring_groups,
        MentoringGroupState,
        rm.mentoring_group_row,
    ),
}
# What the products, producers and mentoring groups change in the outcomes view's totals.
AFTER = {
    "monitoring.products": rm.products_changed,
    "monitoring.producers": rm.producers_changed,
    "monitoring.mentoring": rm.mentoring_changed,
}
SUBSCRIPTIONS: dict[str, tuple[str, dict[type[Payload], Handler]]] = {
    "monitoring.venues": (
        topics.SCHEDULING_VENUES,
        {VenueRegistered: rm.venue_changed, VenueUpdated: rm.venue_changed},
    ),
    "monitoring.plans": (topics.SCHEDULING_PLANS, {PlanSet: rm.plan_set}),
    "monitoring.market_days": (
        topics.SCHEDULING_MARKET_DAYS,
        {
            **{
                event: rm.market_day_changed
                for event in (MarketDayScheduled, MarketDayRescheduled, MarketDayCancelled, MarketDayHeld)
            },
            **{
                event: rm.invitation_changed
                for event in (InvitationSent, InvitationAccepted, InvitationDeclined, InvitationWithdrawn)
            },
            AttendanceRecorded: rm.attendance_recorded,
        },
    ),
    "monitoring.budget_proposals": (
        topics.BUDGET_PROPOSALS,
        {event: budget.proposal_changed for event in (ProposalSubmitted, ProposalApproved, ProposalReturned)},
    ),
    "monitoring.budget_spending": (
        topics.BUDGET_SPENDING,
        {
            event: budget.purchase_changed
            for event in (PurchaseRequested, PurchaseBought, PurchaseReceiptAttached, PurchaseReceived)
        },
    ),
    "monitoring.budget_materials": (
        topics.BUDGET_MATERIALS,
        {PackingListChanged: budget.packing_list_changed},
    ),
}
SALES_GROUP = "monitoring.sales"  # sales events come in batches (rm.sales_changed): the busiest stream
GROUPS: dict[str, str] = {
    **{group_id: topic for group_id, (topic, *_) in REGISTRY.items()},
    **{group_id: topic for group_id, (topic, _) in SUBSCRIPTIONS.items()},
    SALES_GROUP: topics.SALES_RECORDED,
}


def consumers(db: Database, settings: ServiceSettings) -> list[BatchConsumer]:
    retries = settings.retry_options()
    # Every subscription a batch at a time: a national season sends tens of thousands of invitation events.
    return [
        *(
            BatchConsumer(
                group_id=group_id,
                topic=topic,
                unit_of_work=db.unit_of_work,
                handler=in_order(db.inbox, group_id, handlers),
                **retries,
            )
            for group_id, (topic, handlers) in SUBSCRIPTIONS.items()
        ),
        *(
            BatchConsumer(
                group_id=group_id,
                topic=topic,
                unit_of_work=db.unit_of_work,
                handler=newest_state(
                    db.inbox,
                    group_id,
                    table,
                    state,
                    row_of,
                    insert_only=("registered_at",),
                    after=AFTER.get(group_id),
                ),
                **retries,
            )
            for group_id, (topic, table, state, row_of) in REGISTRY.items()
        ),
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

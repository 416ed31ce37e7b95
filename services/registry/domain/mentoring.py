"""Mentoring groups (the seed's recommendation: a group where experienced and new producers learn from
each other, กลุ่มแลกเปลี่ยนเรียนรู้ระหว่างผู้ประกอบการรายเก่าและรายใหม่).

A group has one or more experienced mentors and one or more new producers (mentees), all of one
province and one product category: each member has an active product of that category. A new
producer is a mentee in at most one active group; a mentor may lead several.
"""

from collections import Counter
from dataclasses import dataclass, field
from uuid import UUID

from pydantic import Field, model_validator

from services.registry.domain.catalogue import Problem
from shared.contracts.registry import MentoringGroupStatus, ProductCategory
from shared.inputs import Input
from shared.labels import PRODUCT_CATEGORY_TH


class MentoringGroup(Input):
    """A group as an officer forms or replaces it (membership lists are replaced whole)."""

    name: str = Field(min_length=1, max_length=300)
    category: ProductCategory
    mentor_ids: list[UUID] = Field(min_length=1, max_length=20, description="Experienced producers")
    mentee_ids: list[UUID] = Field(min_length=1, max_length=50, description="New producers")
    status: MentoringGroupStatus = MentoringGroupStatus.ACTIVE

    @model_validator(mode="after")
    def _distinct_members(self) -> "MentoringGroup":
        self.mentor_ids = list(dict.fromkeys(self.mentor_ids))
        self.mentee_ids = list(dict.fromkeys(self.mentee_ids))
        if set(self.mentor_ids) & set(self.mentee_ids):
            raise ValueError("a producer cannot be both a mentor and a mentee of a group")
        return self


@dataclass(frozen=True)
class Profile:
    """What mentoring needs to know of a producer."""

    producer_id: UUID
    name: str
    experienced: bool
    amphoe_code: str | None
    categories: frozenset[ProductCategory]  # of its active products
    mentee_in: UUID | None = None  # the active group it is a mentee of
    mentees: int = 0  # how many it mentors in active groups


def membership_problems(
    group: MentoringGroup, profiles: dict[UUID, Profile], group_id: UUID | None = None
) -> list[Problem]:
    """Every reason `group` cannot stand with these members (`profiles`: the province's producers)."""
    if group.status is MentoringGroupStatus.CLOSED:
        return []  # a closed group is a record: its members may since have changed
    problems = []
    for role, ids in (("mentor_ids", group.mentor_ids), ("mentee_ids", group.mentee_ids)):
        for index, producer_id in enumerate(ids):
            loc = ("body", role, index)
            profile = profiles.get(producer_id)
            if profile is None:
                problems.append(Problem(loc, "no such producer in this province", "unknown_producer"))
                continue
            if group.category not in profile.categories:
                problems.append(
                    Problem(
                        loc, f"{profile.name} has no active product of category {group.category}", "category"
                    )
                )
            if role == "mentor_ids" and not profile.experienced:
                problems.append(
                    Problem(loc, f"{profile.name} is a new producer; mentors are experienced", "role")
                )
            if role == "mentee_ids" and profile.experienced:
                problems.append(
                    Problem(loc, f"{profile.name} is experienced; mentees are new producers", "role")
                )
            if role == "mentee_ids" and profile.mentee_in not in (None, group_id):
                problems.append(
                    Problem(
                        loc,
                        f"{profile.name} is already a mentee of group {profile.mentee_in}",
                        "already_mentored",
                    )
                )
    return problems


@dataclass
class Suggestion:
    name: str
    category: ProductCategory
    mentor_ids: list[UUID]
    mentee_ids: list[UUID] = field(default_factory=list)


def suggest_groups(profiles: list[Profile]) -> tuple[list[Suggestion], list[tuple[UUID, ProductCategory]]]:
    """Pairings for the new producers not yet in a group: per category, each goes to an experienced
    producer of that category, of its own amphoe if there is one, else the one with fewest mentees.
    Returns the suggested groups (one per mentor, ready to be formed) and the new producers for
    whom no mentor exists (producer, category)."""
    by_name = sorted(profiles, key=lambda p: (p.name, str(p.producer_id)))
    load = Counter({p.producer_id: p.mentees for p in by_name})
    suggestions: dict[tuple[ProductCategory, UUID], Suggestion] = {}
    placed: set[UUID] = set()
    unmatched: list[tuple[UUID, ProductCategory]] = []
    for category in ProductCategory:
        mentors = [p for p in by_name if p.experienced and category in p.categories]
        for mentee in by_name:
            if (
                mentee.experienced
                or mentee.mentee_in
                or mentee.producer_id in placed
                or category not in mentee.categories
            ):
                continue
            if not mentors:
                unmatched.append((mentee.producer_id, category))
                continue
            mentor = min(mentors, key=lambda m: (m.amphoe_code != mentee.amphoe_code, load[m.producer_id]))
            load[mentor.producer_id] += 1
            placed.add(mentee.producer_id)
            suggestion = suggestions.setdefault(
                (category, mentor.producer_id),
                Suggestion(
                    f"กลุ่มพี่เลี้ยง{PRODUCT_CATEGORY_TH[category]} {mentor.name}", category, [mentor.producer_id]
                ),
            )
            suggestion.mentee_ids.append(mentee.producer_id)
    unmatched = [(producer, category) for producer, category in unmatched if producer not in placed]
    return list(suggestions.values()), unmatched

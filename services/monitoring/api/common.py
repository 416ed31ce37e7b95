"""What every monitoring route shares: roles, the database, refusals as HTTP answers, periods."""

from typing import Annotated

from fastapi import Depends, Query
from pydantic import BaseModel, ConfigDict

from services.monitoring.config import MonitoringSettings, monitoring_settings
from services.monitoring.domain import Month, Period, Year
from shared.auth import Principal, Role, current_principal
from shared.errors import Invalid
from shared.service import Database, database


class View(BaseModel):
    """What the API answers (rows may hold more than the view shows)."""

    model_config = ConfigDict(extra="ignore")


Db = Annotated[Database, Depends(database)]
Caller = Annotated[Principal, Depends(current_principal)]
Settings = Annotated[MonitoringSettings, Depends(monitoring_settings)]
READ = (Role.DEPARTMENT, Role.PROVINCE_OFFICER, Role.COMMITTEE_MEMBER)
WRITE = (Role.DEPARTMENT, Role.PROVINCE_OFFICER)


def month_filter(
    year: Annotated[Year | None, Query(description="CE or BE, e.g. 2019 or 2562")] = None,
    month: Annotated[Month | None, Query()] = None,
) -> Period | None:
    """Optional ?year=&month= (both, or neither)."""
    if (year is None) != (month is None):
        raise Invalid.at(
            ("query", "month" if month is None else "year"), "give year and month together", "missing"
        )
    return Period.month(year, month) if year and month else None


MonthFilter = Annotated[Period | None, Depends(month_filter)]

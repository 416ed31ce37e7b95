"""What every monitoring route shares: roles, the database, refusals as HTTP answers, periods."""

import contextlib
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import IntegrityError

from services.monitoring.config import MonitoringSettings, monitoring_settings
from services.monitoring.domain import EvaluationRefused, Month, Period, Year
from services.monitoring.handlers import Conflict, Forbidden, Invalid, NotFound
from shared.auth import Principal, Role, current_principal
from shared.service import Database, database


class View(BaseModel):
    """What the API answers (rows may hold more than the view shows)."""

    model_config = ConfigDict(extra="ignore")


Db = Annotated[Database, Depends(database)]
Caller = Annotated[Principal, Depends(current_principal)]
Settings = Annotated[MonitoringSettings, Depends(monitoring_settings)]
READ = (Role.DEPARTMENT, Role.PROVINCE_OFFICER, Role.COMMITTEE_MEMBER)
WRITE = (Role.DEPARTMENT, Role.PROVINCE_OFFICER)


@contextlib.contextmanager
def answering() -> Iterator[None]:
    """Refusals of the use cases as HTTP answers (a 4xx with a message, never a 500)."""
    try:
        yield
    except NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except Forbidden as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from exc
    except (Conflict, EvaluationRefused) as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    except Invalid as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [
            {"loc": ["body", exc.field], "msg": str(exc), "type": "value_error"}]) from exc
    except IntegrityError as exc:  # a concurrent write got there first
        raise HTTPException(status.HTTP_409_CONFLICT, "conflicts with a concurrent change; try again") from exc


def month_filter(year: Annotated[Year | None, Query(description="CE or BE, e.g. 2019 or 2562")] = None,
                 month: Annotated[Month | None, Query()] = None) -> Period | None:
    """Optional ?year=&month= (both, or neither)."""
    if (year is None) != (month is None):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [
            {"loc": ["query", "month" if month is None else "year"], "msg": "give year and month together",
             "type": "missing"}])
    return Period.month(year, month) if year and month else None


MonthFilter = Annotated[Period | None, Depends(month_filter)]

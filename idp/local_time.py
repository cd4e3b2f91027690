"""Times as people in France read them: the `paris` Jinja filter (registered once, in
create_app), for the staff console and any page that shows a moment.

Stored values, CLI and JSON outputs and logs stay in UTC; only what a page shows goes
through here. A naive datetime is taken as UTC (SQLite hands them back naive); a number
is a unix time; a string is an ISO 8601 moment (the console's services give some so).
Europe/Paris from the standard library's zoneinfo: CET in winter, CEST in summer.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
DEFAULT_FORMAT = "%d/%m/%Y %H:%M"


def to_paris(moment: datetime | int | float | str | None) -> datetime | None:
    """The same instant on Paris's clock, aware."""
    if moment is None or moment == "":
        return None
    if isinstance(moment, (int, float)):
        moment = datetime.fromtimestamp(moment, timezone.utc)
    elif isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(PARIS)


def paris_today() -> date:
    """Today's date in Paris (a day chosen on a page is one of Paris's days)."""
    return datetime.now(PARIS).date()


def paris(moment: datetime | int | float | str | None, fmt: str = DEFAULT_FORMAT) -> str:
    """Jinja filter: `{{ e.at|paris }}`, `{{ e.at|paris("%Y-%m-%d %H:%M:%S") }}`; nothing
    shown for no value."""
    local = to_paris(moment)
    return local.strftime(fmt) if local is not None else ""


def init_app(app) -> None:
    app.add_template_filter(paris, "paris")

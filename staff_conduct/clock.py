"""Working-day arithmetic in the nursery's local time (Europe/London by default).

Deadlines are counted in local wall-clock time, so "two working days after Friday 3 pm" is Tuesday 3 pm
whether or not the clocks changed over the weekend.
"""

from datetime import date, datetime, time, timedelta

from django.utils import timezone


def local_zone():
    return timezone.get_default_timezone()


def local_date(moment: datetime) -> date:
    return moment.astimezone(local_zone()).date()


def is_working_day(day: date) -> bool:
    return day.weekday() < 5  # Monday to Friday; bank holidays are not counted separately


def add_working_days(moment: datetime, days: int) -> datetime:
    """The moment ``days`` working days after ``moment``; time reported at a weekend starts on Monday morning."""
    local = moment.astimezone(local_zone())
    day, clock = local.date(), local.time().replace(tzinfo=None)
    if not is_working_day(day):
        while not is_working_day(day):
            day += timedelta(days=1)
        clock = time.min
    for _ in range(days):
        day += timedelta(days=1)
        while not is_working_day(day):
            day += timedelta(days=1)
    return datetime.combine(day, clock, tzinfo=local_zone())


def end_of_day(day: date) -> datetime:
    """Midnight at the end of ``day``, local time: a due date is met until then."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=local_zone())

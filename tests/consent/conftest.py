from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.consent.factories import wordings

LONDON = ZoneInfo("Europe/London")


def at(*args) -> datetime:
    """A moment in London time, as the nursery reads it."""
    return datetime(*args, tzinfo=LONDON)


@pytest.fixture
def wording(world):
    """Version 1 of both scopes for the world's nursery."""
    return wordings(world.nursery)

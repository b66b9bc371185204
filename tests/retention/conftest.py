from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

LONDON = ZoneInfo("Europe/London")
# A fixed "now" for time travel: a Wednesday in winter, mid-morning in London.
NOW = datetime(2027, 1, 13, 10, 0, tzinfo=LONDON)


@pytest.fixture
def now():
    return NOW

import pytest

from posts.models import Channel, Platform

SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"
PAGE_ID = "100000000000002"
IG_ID = "17841400000000001"


@pytest.fixture(autouse=True)
def _meta_settings(settings):
    settings.META_APP_SECRET = SECRET
    settings.META_VERIFY_TOKEN = VERIFY_TOKEN


@pytest.fixture
def page_channel(world):
    return Channel.objects.create(nursery=world.nursery, name="Public Facebook Page", platform=Platform.FACEBOOK,
                                  audience="public", external_id=PAGE_ID)


@pytest.fixture
def ig_channel(world):
    return Channel.objects.create(nursery=world.nursery, name="Instagram", platform=Platform.INSTAGRAM,
                                  audience="public", external_id=IG_ID)

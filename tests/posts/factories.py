"""Factories for channels, occasions, posts and their photos (a real, tiny JPEG each)."""

import io

import factory
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from consent.models import Scope
from posts.models import Channel, DetectedFace, FaceSearch, Occasion, Platform, Post, PostImage
from tests.factories import NurseryFactory, UserFactory


def jpeg_bytes(size=(64, 48), colour=(200, 120, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG")
    return buffer.getvalue()


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel
        django_get_or_create = ["nursery", "name"]

    nursery = factory.SubFactory(NurseryFactory)
    name = factory.LazyAttribute(lambda c: "Families group" if c.audience == Scope.CLOSED else "Public Page")
    platform = Platform.FACEBOOK
    audience = Scope.CLOSED


class OccasionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Occasion

    nursery = factory.SubFactory(NurseryFactory)
    name = factory.Sequence(lambda n: f"Occasion {n}")
    date = factory.LazyFunction(timezone.localdate)


class PostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Post
        skip_postgeneration_save = True

    nursery = factory.SubFactory(NurseryFactory)
    author = factory.SubFactory(UserFactory)
    edited_by = factory.SelfAttribute("author")
    caption = "Our Christmas concert was a joy!"

    @factory.post_generation
    def channels(obj, create, extracted, **kwargs):
        if create:
            obj.channels.set(extracted if extracted is not None else [ChannelFactory(nursery=obj.nursery)])


class PostImageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PostImage
        skip_postgeneration_save = True

    post = factory.SubFactory(PostFactory)
    image = factory.LazyFunction(lambda: ContentFile(jpeg_bytes(), name="photo.jpg"))
    thumbnail = factory.LazyFunction(lambda: ContentFile(jpeg_bytes((32, 24)), name="thumb.jpg"))
    alt_text = "Children singing on stage"
    # As the worker leaves a photo in which it found no face; tests about faces add DetectedFace rows.
    face_search = FaceSearch.DONE

    @factory.post_generation
    def children(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.children.set(extracted)


class DetectedFaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DetectedFace

    image = factory.SubFactory(PostImageFactory)
    number = factory.Sequence(lambda n: n + 1)
    x = factory.LazyAttribute(lambda f: 10 * f.number)
    y = 5
    width = 8
    height = 8

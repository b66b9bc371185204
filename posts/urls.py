from django.urls import path

from posts import signed_media

app_name = "posts"

urlpatterns: list = [
    # Graph API publishing
    path("m/<str:token>/", signed_media.signed_image, name="signed_image"),
]

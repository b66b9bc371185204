from django.urls import path

from posts import signed_media, views
from posts.meta import views as meta_views

app_name = "posts"

urlpatterns = [
    path("posts/", views.my_posts, name="mine"),
    path("posts/new/", views.new_post, name="new"),
    path("posts/approvals/", views.approvals, name="approvals"),
    path("posts/scheduled/", views.scheduled, name="scheduled"),
    path("posts/published/", views.published, name="published"),
    path("posts/<int:pk>/", views.detail, name="detail"),
    path("posts/<int:pk>/edit/", views.edit, name="edit"),
    path("posts/<int:pk>/photos/", views.add_photos, name="add_photos"),
    path("posts/<int:pk>/submit/", views.submit, name="submit"),
    path("posts/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("posts/<int:pk>/approve/", views.approve, name="approve"),
    path("posts/<int:pk>/request-changes/", views.request_changes, name="request_changes"),
    path("posts/<int:pk>/reject/", views.reject, name="reject"),
    path("posts/<int:pk>/publish/", views.publish, name="publish"),
    path("posts/<int:pk>/take-down/", views.take_down, name="take_down"),
    path("posts/photos/<int:pk>/", views.describe_photo, name="describe_photo"),
    path("posts/photos/<int:pk>/remove/", views.remove_photo, name="remove_photo"),
    path("posts/photos/<int:pk>/faces/", views.faces, name="faces"),
    path("posts/photos/<int:pk>/faces/account/", views.account_faces, name="account_faces"),
    path("posts/photos/<int:pk>/faces/blur/", views.blur_faces, name="blur_faces"),
    path("posts/<int:pk>/blurring/", views.blurring, name="blurring"),
    path("posts/photos/<int:pk>/copy/<str:scope>.jpg", views.photo_copy, name="photo_copy"),
    path("posts/photos/<int:pk>/image.jpg", views.photo, name="photo"),
    path("posts/photos/<int:pk>/thumbnail.jpg", views.thumbnail, name="thumbnail"),
    path("posts/publications/<int:pk>/address/", views.publication_address, name="publication_address"),
    path("posts/takedowns/", views.takedowns, name="takedowns"),
    path("posts/takedowns/<int:pk>/", views.takedown, name="takedown"),
    path("posts/channels/", views.channels, name="channels"),
    path("posts/channels/new/", views.channel_form, name="channel_new"),
    path("posts/channels/<int:pk>/", views.channel_form, name="channel_edit"),
    path("posts/occasions/new/", views.occasion_form, name="occasion_new"),
    path("posts/occasions/<int:pk>/", views.occasion_form, name="occasion_edit"),
    # Publishing through the Graph API (Facebook and Instagram)
    path("posts/facebook-instagram/", meta_views.graph_overview, name="graph_overview"),
    path("posts/facebook-instagram/channels/<int:pk>/connect/", meta_views.channel_connection,
         name="channel_connection"),
    path("posts/facebook-instagram/channels/<int:pk>/disconnect/", meta_views.channel_disconnect,
         name="channel_disconnect"),
    path("posts/facebook-instagram/deliveries/<int:pk>/retry/", meta_views.delivery_retry, name="delivery_retry"),
    # Photos fetched by Instagram while publishing: signed, expiring, no login
    path("m/<str:token>/", signed_media.signed_image, name="signed_image"),
]

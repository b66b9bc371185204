from django.urls import path

from posts import graph_views, signed_media

app_name = "posts"

urlpatterns: list = [
    # Publishing through the Graph API
    path("facebook-instagram/", graph_views.graph_overview, name="graph_overview"),
    path("facebook-instagram/channels/<int:pk>/connect/", graph_views.channel_connection, name="channel_connection"),
    path("facebook-instagram/channels/<int:pk>/disconnect/", graph_views.channel_disconnect,
         name="channel_disconnect"),
    path("facebook-instagram/deliveries/<int:pk>/retry/", graph_views.delivery_retry, name="delivery_retry"),
    path("m/<str:token>/", signed_media.signed_image, name="signed_image"),
]

from django.urls import path

from people import views

app_name = "people"

urlpatterns = [
    path("people/children/<int:pk>/leaving/", views.child_leaving, name="child_leaving"),
]

from django.urls import path

from people import views

app_name = "people"

urlpatterns = [
    path("people/children/<int:pk>/leaving/", views.child_leaving, name="child_leaving"),
    path("people/invitations/", views.invitations, name="invitations"),
    path("people/invitations/new/", views.invite, name="invite"),
    path("people/invitations/<int:pk>/resend/", views.invitation_resend, name="invitation_resend"),
    path("people/invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("invitation/accept/", views.invitation_accept, name="invitation_accept"),
    path("invitation/<str:token>/", views.invitation, name="invitation"),
]

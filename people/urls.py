from django.urls import path

from people import views

app_name = "people"

urlpatterns = [
    path("people/children/", views.children, name="children"),
    path("people/children/new/", views.child_new, name="child_new"),
    path("people/children/<int:pk>/", views.child, name="child"),
    path("people/children/<int:pk>/leaving/", views.child_leaving, name="child_leaving"),
    path("people/guardians/<int:pk>/remove/", views.guardian_remove, name="guardian_remove"),
    path("people/guardians/<int:pk>/responsibility/", views.guardian_responsibility, name="guardian_responsibility"),
    path("people/import/", views.roll_import, name="roll_import"),
    path("people/import/preview/", views.roll_import_preview, name="roll_import_preview"),
    path("people/rooms/", views.rooms, name="rooms"),
    path("people/rooms/<int:pk>/rename/", views.room_rename, name="room_rename"),
    path("people/rooms/<int:pk>/archive/", views.room_archive, name="room_archive"),
    path("people/staff/", views.staff, name="staff"),
    path("people/staff/<int:pk>/role/", views.staff_role, name="staff_role"),
    path("people/staff/<int:pk>/remove/", views.staff_remove, name="staff_remove"),
    path("people/invitations/", views.invitations, name="invitations"),
    path("people/invitations/new/", views.invite, name="invite"),
    path("people/invitations/<int:pk>/resend/", views.invitation_resend, name="invitation_resend"),
    path("people/invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("invitation/accept/", views.invitation_accept, name="invitation_accept"),
    path("invitation/<str:token>/", views.invitation, name="invitation"),
]

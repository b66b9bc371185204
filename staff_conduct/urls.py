app_name = "staff_conduct"

urlpatterns: list = []

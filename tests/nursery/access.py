from tests.access import Access, everyone, expect

ACCESS = [
    Access("home", everyone(200)),
    Access("healthz", everyone(200, anonymous=200)),
    Access("notifications", everyone(200)),
    Access("notifications_read", everyone(302), method="post"),
    Access("switch_nursery", everyone(302), method="post", data=lambda w: {"nursery": w.nursery.pk}),
    Access("login", everyone(302, anonymous=200), note="logged-in users are sent home"),
    Access("logout", everyone(302, anonymous=302), method="post"),
    Access("password_change", everyone(200)),
    Access("password_change_done", everyone(200)),
    Access("password_reset", everyone(200, anonymous=200)),
    Access("password_reset_done", everyone(200, anonymous=200)),
    Access("password_reset_confirm", everyone(200, anonymous=200), kwargs=lambda w: {"uidb64": "x", "token": "y"}),
    Access("password_reset_complete", everyone(200, anonymous=200)),
    Access("admin:index", expect(parent=302, practitioner=302, dsl=302, leader=302, outsider=302),
           note="only the superuser opens the admin (nursery/admin_site.py); tests/test_admin.py covers admin:*"),
]

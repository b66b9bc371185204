"""Settings, read once from environment variables; every variable is listed in the README."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from nursery.storage import storages_from_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    return env(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = env("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-kidscount-0f9d8c7b6a5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "nursery.apps.SuperuserAdminConfig",  # the admin is for superusers only: see that module
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "simple_history",
    "django_celery_beat",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "nursery",
    "consent",
    "posts",
    "moderation",
    "staff_conduct",
    "inspection",
    "retention",
    "people",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The Meta webhook is answered here, without the middleware below that serves people (see its docstring).
    "moderation.middleware.MetaWebhookMiddleware",
    "csp.middleware.CSPMiddleware",
    "nursery.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "nursery.middleware.TwoFactorMiddleware",
    "nursery.middleware.SessionIdleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "nursery.middleware.CurrentNurseryMiddleware",
    # Last, as django-axes asks, so it sees the final authentication outcome.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "nursery.urls"
WSGI_APPLICATION = "nursery.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "nursery.context_processors.navigation",
            ],
        },
    },
]

VAR_DIR.mkdir(parents=True, exist_ok=True)
# Persistent connections: opening one cost about a third of a webhook request. Health checks test a
# reused connection before the request uses it, so a database restart costs one retry, not an error.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=int(env("DATABASE_CONN_MAX_AGE", "600")),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Brute-force protection: lock a username+address pair after repeated failures.
AXES_FAILURE_LIMIT = int(env("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(env("AXES_COOLOFF_HOURS", "1"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# How many reverse proxies (load balancer, nginx) stand in front of the app and append to X-Forwarded-For.
# 0: REMOTE_ADDR is the client. The client address (nursery.http.client_ip) is recorded with each online
# decision and acknowledgement, and is what django-axes locks out; too high a count lets anyone choose theirs.
TRUSTED_PROXY_COUNT = int(env("TRUSTED_PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "nursery.http.client_ip"

# Sessions end after this long without a request (nursery.middleware.SessionIdleMiddleware): staff (anyone
# who works at a nursery, and the administrator) on shared tablets soon, parents on their own phones later.
STAFF_SESSION_IDLE_MINUTES = int(env("STAFF_SESSION_IDLE_MINUTES", "30"))
PARENT_SESSION_DAYS = int(env("PARENT_SESSION_DAYS", "14"))

# Two-factor sign-in (nursery/twofactor.py) for leadership, the safeguarding lead and superusers.
REQUIRE_TWO_FACTOR = env_bool("REQUIRE_TWO_FACTOR", not DEBUG)
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", "Safe Sharing")

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Uploaded photos, consent scans and evidence are private: served only through permission-checked views.
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
# Uploads on the local disk, or in S3-compatible object storage with STORAGE_URL (nursery/storage.py).
STORAGE_URL = env("STORAGE_URL")
STORAGES = {
    **storages_from_url(STORAGE_URL),
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 20

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

MESSAGE_TAGS = {40: "danger"}

# Email: console in development, SMTP when EMAIL_HOST is set.
EMAIL_HOST = env("EMAIL_HOST")
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = int(env("EMAIL_PORT", "587"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Kids Count <no-reply@kidscount.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Audit: history cannot be reverted from the admin, only read.
SIMPLE_HISTORY_REVERT_DISABLED = True

# Celery: an embedded filesystem broker under var/ unless CELERY_BROKER_URL names a server.
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        # kombu polls the folder once a second by default: a task would wait half a second on average.
        "polling_interval": float(env("CELERY_EMBEDDED_POLL_SECONDS", "0.05")),
    }
else:
    # Redis hands a message that was delivered but never acknowledged (its worker was killed: acks_late) to
    # another worker after visibility_timeout. It must outlast the longest a message can legitimately wait
    # unacknowledged: reserved behind one task (CELERY_TASK_TIME_LIMIT, 90 s, prefetch 1) and then run (90 s
    # more), so 180 s; 300 s leaves a margin and brings a killed worker's work back within about five minutes,
    # not an hour. Nothing here uses countdown/ETA (the outbox holds far-future work in the database), which
    # would need a visibility timeout longer than the ETA. Unacked messages are scanned for every 10 s.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": int(env("CELERY_VISIBILITY_TIMEOUT", "300")),
        "unacked_restore_interval": 10,
        "unacked_restore_throttle": 1,
    }
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
CELERY_TIMEZONE = "UTC"  # beat runs in UTC; local times are computed in domain code
CELERY_ENABLE_UTC = True
# django-celery-beat's database scheduler, scheduling only while it holds the deployment's lock (nursery/beat.py).
CELERY_BEAT_SCHEDULER = "nursery.beat:SingleBeatScheduler"
CELERY_IMPORTS = ["posts.meta.tasks"]  # beside the autodiscovered posts.tasks
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# The one place where periodic work is scheduled (copied into django-celery-beat, editable in the admin).
# Each app's entries sit in its own block; beat runs in UTC, so each says when it runs in words.
CELERY_BEAT_SCHEDULE = {
    # --- nursery: the outbox ---
    # Every minute: send again every side effect still waiting (broker was down, worker was killed).
    "nursery-dispatch-outbox": {
        "task": "nursery.tasks.dispatch_outbox", "schedule": crontab(minute="*"),
    },

    # --- consent ---
    # Every day at 07:30 UTC (half past seven or eight in the morning in London): consent requests,
    # reminders, renewals and expiry notices. Safe to run again: what was sent is recorded.
    "consent-requests-and-renewals": {
        "task": "consent.tasks.send_consent_requests",
        "schedule": crontab(hour=7, minute=30),
    },

    # --- people ---
    # Every hour at five past: leavers whose leaving day has come (London) are retired within the hour
    # after midnight whatever the clocks; a date marked as today or past is acted on at once anyway.
    "people-retire-leavers": {
        "task": "people.tasks.retire_leavers", "schedule": crontab(minute=5),
    },

    # --- posts ---
    "posts-publish-due": {  # every five minutes
        "task": "posts.tasks.publish_due_posts", "schedule": crontab(minute="*/5"),
    },
    "posts-escalate-takedowns": {  # every fifteen minutes (each takedown is told at most once a day)
        "task": "posts.tasks.escalate_overdue_takedowns", "schedule": crontab(minute="*/15"),
    },
    "posts-remind-approvals": {  # every day at 08:00 UTC (9:00 in British Summer Time)
        "task": "posts.tasks.remind_waiting_approvals", "schedule": crontab(hour=8, minute=0),
    },

    # --- posts: Graph API publishing ---
    # Every 5 minutes: restart deliveries whose retry is due or whose worker stopped mid-way.
    "graph-restart-due-deliveries": {
        "task": "posts.graph_tasks.restart_due_deliveries",
        "schedule": crontab(minute="*/5"),
    },

    # --- moderation ---
    # Every 5 seconds: process the webhook deliveries received since (the webhook only stores them).
    "moderation-drain-webhook-deliveries": {
        "task": "moderation.tasks.drain_webhook_deliveries", "schedule": timedelta(seconds=5),
    },
    # Every 5 minutes, around the clock: items past their review target notify, then escalate.
    "moderation-escalate-overdue-items": {
        "task": "moderation.tasks.escalate_overdue_items",
        "schedule": crontab(minute="*/5"),
    },

    # --- staff_conduct ---
    # Every day at 08:00 UTC; each person is reminded at most once a week and four times in all,
    # so a missed run delays a reminder by a day, never by a week.
    "staff-conduct-acknowledgement-reminders": {
        "task": "staff_conduct.tasks.chase_acknowledgements_task",
        "schedule": crontab(hour=8, minute=0),
    },
    # Every day at 07:30 UTC (before the working day in London, summer or winter).
    "staff-conduct-incident-escalation": {
        "task": "staff_conduct.tasks.escalate_incidents_task",
        "schedule": crontab(hour=7, minute=30),
    },

    # --- retention ---
    # Every night at 02:30 UTC (half past two or three in London, away from the working day): remove
    # what is past its retention period, in batches, within RETENTION_TIME_BUDGET_SECONDS.
    "retention-nightly": {
        "task": "retention.tasks.run_retention_task",
        "schedule": crontab(hour=2, minute=30),
    },

    # --- inspection ---
    # Every 10 minutes: build packs whose task was lost, and delete the files of packs whose link expired.
    "inspection-sweep-packs": {
        "task": "inspection.tasks.sweep_inspection_packs", "schedule": crontab(minute="*/10"),
    },
}

# Retention: batch size and time budget of the nightly run; how long raw webhook deliveries are kept.
RETENTION_BATCH_SIZE = int(env("RETENTION_BATCH_SIZE", "200"))
RETENTION_TIME_BUDGET_SECONDS = int(env("RETENTION_TIME_BUDGET_SECONDS", "300"))
RETENTION_WEBHOOK_DAYS = int(env("RETENTION_WEBHOOK_DAYS", "30"))

# The outbox (nursery/outbox.py, docs/outbox.md). The lease is how long a row handed to the broker or claimed
# by a worker is left alone before the dispatcher sends it again: longer than CELERY_TASK_TIME_LIMIT, so a
# task still running is never started twice, and short enough that a killed worker's work is redone soon.
OUTBOX_LEASE_SECONDS = int(env("OUTBOX_LEASE_SECONDS", "300"))
OUTBOX_MAX_ATTEMPTS = int(env("OUTBOX_MAX_ATTEMPTS", "10"))  # then "dead", shown in the admin
OUTBOX_BATCH_SIZE = int(env("OUTBOX_BATCH_SIZE", "500"))  # rows the dispatcher claims per query
OUTBOX_FAST_PATH_MAX = 100  # more rows than this from one transaction are published by the dispatcher
OUTBOX_KEEP_DAYS = int(env("OUTBOX_KEEP_DAYS", "30"))  # done rows kept for the admin's audit view
# /healthz says "degraded" (503) when the oldest message due has waited longer than this.
OUTBOX_DEGRADED_AFTER_SECONDS = int(env("OUTBOX_DEGRADED_AFTER_SECONDS", "900"))

# Inspection packs: how long the download link of a built pack works before its file is deleted.
INSPECTION_PACK_LINK_HOURS = int(env("INSPECTION_PACK_LINK_HOURS", "72"))

# Meta (Facebook/Instagram) webhooks and Graph API.
META_APP_SECRET = env("META_APP_SECRET")
# On: each stored delivery waits for PostgreSQL's disk flush before the 200 (see moderation.services).
WEBHOOK_SYNCHRONOUS_COMMIT = env_bool("WEBHOOK_SYNCHRONOUS_COMMIT", False)
META_VERIFY_TOKEN = env("META_VERIFY_TOKEN")
# Publishing through the Graph API: tests point the base URL at a local server.
META_GRAPH_BASE_URL = env("META_GRAPH_BASE_URL", "https://graph.facebook.com").rstrip("/")
META_GRAPH_VERSION = env("META_GRAPH_VERSION", "v26.0")
META_GRAPH_TIMEOUT_SECONDS = float(env("META_GRAPH_TIMEOUT_SECONDS", "20"))
# How long a signed photo address handed to Instagram stays valid.
SIGNED_MEDIA_MAX_AGE_SECONDS = int(env("SIGNED_MEDIA_MAX_AGE_SECONDS", "3600"))

# Secrets at rest (page access tokens): Fernet keys, the first encrypts, all decrypt (rotation).
# Required when DJANGO_DEBUG is off; in development a key is derived from the secret key.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEY")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(env("DJANGO_SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Content-Security-Policy on every response (django-csp), enforced: scripts, styles, fonts and frames from this
# site only, no inline script or style anywhere (templates use static/js and static/css), nothing may frame
# us, forms post only here. ``data:`` images are Bootstrap's form icons; Meta's image CDNs show the image of a
# photo or sticker comment in the moderation queue (linked, not copied; loaded with no referrer). Files served
# from uploads set a stricter sandboxed policy of their own, which the middleware leaves alone.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "https://*.fbcdn.net", "https://*.cdninstagram.com"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}
# Browser features no page of ours uses (nursery.middleware.PermissionsPolicyMiddleware).
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

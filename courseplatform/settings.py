"""Settings for courseplatform.

Every knob comes from the environment (documented in README.md). With nothing
set the platform runs on embedded defaults: SQLite, local media under var/,
local-memory cache, the database task worker and PLATFORM_DOMAIN=localhost.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
import dj_email_url
import structlog
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _embedded_secret_key() -> str:
    # The embedded default must run with nothing configured, so a random key is
    # created once and kept under var/. Production sets SECRET_KEY (or JWT_SECRET).
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY") or os.environ.get("JWT_SECRET") or _embedded_secret_key()

# --- tenancy -----------------------------------------------------------------
PLATFORM_DOMAIN = os.environ.get("PLATFORM_DOMAIN", "localhost").strip().lower().rstrip(".")
# Scheme used when the platform builds absolute links to a school (login links, emails).
PLATFORM_SCHEME = os.environ.get("PLATFORM_SCHEME", "http")
# Port appended to absolute school URLs built outside a request (emails from the shell,
# the task worker). Behind the HTTPS edge (PLATFORM_SCHEME=https) PORT is the app server's
# upstream port, never the public one, so the default is then the scheme's own (443).
PLATFORM_PORT = os.environ.get(
    "PLATFORM_PORT", "" if PLATFORM_SCHEME == "https" else os.environ.get("PORT", "8000")
)
# The tenancy middleware is the host gate: it answers 404 for every host that is
# neither the platform domain nor a school. Django's own ALLOWED_HOSTS check would
# turn unknown hosts into a 400 before our 404 page, and custom domains are dynamic.
ALLOWED_HOSTS = ["*"]
SCHOOL_CACHE_SECONDS = int(os.environ.get("SCHOOL_CACHE_SECONDS", "300"))
# How long a signed-in user's row is cached between requests (accounts/user_cache.py; any
# change to the user replaces it at once). 0 reads the row on every request.
USER_CACHE_SECONDS = int(os.environ.get("USER_CACHE_SECONDS", "300"))
# Signed-in users each web process keeps in memory while it hears every change
# (accounts/user_cache.py); about 1.5 KiB each.
USER_CACHE_SIZE = int(os.environ.get("USER_CACHE_SIZE", "10000"))
# Schools each web process keeps in memory (tenancy/hostcache.py): enough for every
# school a process serves, so host lookups stay in memory (or one Redis round trip) at 10,000.
SCHOOL_CACHE_SIZE = int(os.environ.get("SCHOOL_CACHE_SIZE", "20000"))
# Public pages for visitors (ops/edgecache.py): how long a CDN (s-maxage) and this
# server keep one, and how long a CDN may serve it stale while it fetches a new one.
PUBLIC_CACHE_SECONDS = int(os.environ.get("PUBLIC_CACHE_SECONDS", "60"))
PUBLIC_CACHE_STALE_SECONDS = int(os.environ.get("PUBLIC_CACHE_STALE_SECONDS", "60"))
# A rendered visitor page that holds nothing that expires is kept (in Redis and in each
# web process) until the school's content changes, and at most this long.
PUBLIC_PAGE_LIFETIME_SECONDS = int(os.environ.get("PUBLIC_PAGE_LIFETIME_SECONDS", "3600"))
# Each web process also keeps finished visitor pages in memory (ops/pagecache.py), within
# this many MiB (least recently used go). While the process hears every change announced
# through Redis (tenancy/broadcast.py) a copy lives PUBLIC_PAGE_LIFETIME_SECONDS; when it
# cannot (Redis unreachable, no Redis), and for pages with expiring URLs, at most
# PUBLIC_PROCESS_CACHE_SECONDS (never more than s-maxage; 0 turns the cache off).
PUBLIC_PROCESS_CACHE_SECONDS = int(os.environ.get("PUBLIC_PROCESS_CACHE_SECONDS", "60"))
# 128 MiB holds the three visitor pages of 10,000 schools (82 MiB measured: README).
PUBLIC_PROCESS_CACHE_BYTES = int(float(os.environ.get("PUBLIC_PROCESS_CACHE_MB", "128")) * 2**20)

# --- apps --------------------------------------------------------------------
INSTALLED_APPS = [
    # Our apps come first so their management commands (migrate) win.
    "courseplatform.tenancy",
    "courseplatform.accounts",
    "courseplatform.ops",
    "courseplatform.sites",
    "courseplatform.courses",
    "courseplatform.access",
    "courseplatform.video",
    "courseplatform.quizzes",
    "courseplatform.domains",
    "courseplatform.webhooks",
    "courseplatform.analytics",
    "courseplatform.notices",
    "courseplatform.roster",
    # Above sites (the certificate uses the school's theme), below the composing layer.
    "courseplatform.certificates",
    "courseplatform.portability",
    # The composing layer: views and commands that use several feature apps.
    "courseplatform.onboarding",
    "courseplatform.dashboard",
    "courseplatform.api",
    # The operator console on the platform host (staff only, next to Django admin).
    "courseplatform.console",
    # django-ninja's templates and static files: the API docs page (self-hosted Swagger UI).
    "ninja",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_tasks_db",
]

MIDDLEWARE = [
    # Request id, timing, metrics and the request's log line: outermost, so every
    # request (health checks and static files included) is counted.
    "courseplatform.ops.middleware.RequestTelemetryMiddleware",
    "courseplatform.ops.middleware.HealthCheckMiddleware",
    # Visitors' public pages from this process's memory, before any other work
    # (ops/pagecache.py); everything else passes straight through.
    "courseplatform.ops.pagecache.ProcessPageCacheMiddleware",
    # Static files are the same on every host: served before the tenant gate, they
    # cost no host lookup and no database round trip.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Caddy's on-demand TLS check, before everything that a cache lookup does not need.
    "courseplatform.tenancy.tls_ask.TlsAskMiddleware",
    # /api/ only: drops cookies before the session middleware, answers errors as problem+json.
    "courseplatform.api.middleware.ApiRequestMiddleware",
    # Before the tenant gate, so its 404/403 pages carry the policy too (ops/csp.py).
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "courseplatform.tenancy.middleware.TenantMiddleware",
    # A school's platform subdomain sends visitors to its primary custom domain.
    "courseplatform.domains.middleware.PrimaryDomainRedirectMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Outside sessions, CSRF and messages: sees the cookies they set (ops/edgecache.py).
    "courseplatform.ops.middleware.SharedCacheGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "courseplatform.accounts.middleware.SchoolAccountMiddleware",
    # A staff member acting as a school's owner: the banner's data, the time limit.
    "courseplatform.accounts.impersonation.ImpersonationMiddleware",
    # The page's language: the signed-in user's, the visitor's cookie, the school's, the
    # browser's (accounts/language.py). After the account is known, before any view.
    "courseplatform.accounts.language.LanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "courseplatform.urls.platform"
WSGI_APPLICATION = "courseplatform.wsgi.application"
ASGI_APPLICATION = "courseplatform.asgi.application"

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
                "django.template.context_processors.i18n",
                "courseplatform.tenancy.context_processors.tenancy",
                "courseplatform.sites.context_processors.theme",
                "django.template.context_processors.csp",
            ],
        },
    },
]

# --- database ----------------------------------------------------------------
# Three PostgreSQL roles (scripts/pg_roles.py creates them; README "Tenant isolation"):
# DATABASE_URL is the runtime role: neither owner, superuser nor BYPASSRLS, so row-level
# security binds it. DATABASE_OWNER_URL owns the schema; migrations run as it.
# DATABASE_PLATFORM_URL is a BYPASSRLS role for platform-wide work, reached only through
# tenancy.rls.platform_bypass (audited), and for the task queue's rows.
_sqlite_url = f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
DATABASE_URL = os.environ.get("DATABASE_URL") or _sqlite_url
DATABASE_OWNER_URL = os.environ.get("DATABASE_OWNER_URL", "")
DATABASE_PLATFORM_URL = os.environ.get("DATABASE_PLATFORM_URL", "")


# Connections are kept between requests (per thread) for DATABASE_CONN_MAX_AGE seconds.
# The health check before a reused connection's first statement looks at its socket
# instead of asking the server (tenancy/postgresql/base.py): it costs no round trip.
DATABASE_CONN_MAX_AGE = int(os.environ.get("DATABASE_CONN_MAX_AGE", "300"))


def _database(url: str, *, runtime: bool = False) -> dict[str, Any]:
    config: dict[str, Any] = dict(
        dj_database_url.parse(url, conn_max_age=DATABASE_CONN_MAX_AGE, conn_health_checks=True)
    )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    elif config["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend plus the school setting sent along with the statements of
        # the runtime role (row-level security; tenancy/postgresql/base.py).
        config["ENGINE"] = "courseplatform.tenancy.postgresql"
        if runtime:
            config.setdefault("OPTIONS", {})["school_setting"] = True
    return config


DATABASES = {"default": _database(DATABASE_URL, runtime=True)}
if DATABASE_OWNER_URL:
    # Same database, schema-owner role. Only migrations and the grant step use it.
    DATABASES["owner"] = _database(DATABASE_OWNER_URL)
    DATABASES["owner"]["TEST"] = {"MIRROR": "default"}
if DATABASE_PLATFORM_URL:
    # Same database, BYPASSRLS role (tenancy.rls.PLATFORM_ALIAS).
    DATABASES["platform"] = _database(DATABASE_PLATFORM_URL)
MIGRATION_DATABASE = "owner" if DATABASE_OWNER_URL else "default"
DATABASE_ROUTERS = ["courseplatform.tenancy.routers.TenancyRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache -------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's backend, keeping its redis-py client (ops/rediscache.py).
            "BACKEND": "courseplatform.ops.rediscache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "cp"),
        }
    }
    # Sessions live only in Redis: the runtime role has no access to django_session,
    # whose keys are every school's login cookies. Redis must keep them: persistence
    # on and `maxmemory-policy noeviction`. Without REDIS_URL (the embedded SQLite
    # default) sessions stay in the database; tenancy/checks.py refuses that on PostgreSQL.
    SESSION_ENGINE = "django.contrib.sessions.backends.cache"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- tasks -------------------------------------------------------------------
TASKS = {
    "default": {
        # django-tasks-db's queue; ours also carries the enqueuing request's log ids
        # into the task's row (ops/taskqueue.py).
        "BACKEND": os.environ.get("TASKS_BACKEND", "courseplatform.ops.taskqueue.DatabaseBackend"),
        "QUEUES": ["default", "video", "webhooks"],
    }
}
# Announcements are emailed in batches of this many, at most this many per minute (the
# next batch is enqueued with run_after); drip unlock emails go out for sections that
# opened within the last DRIP_EMAIL_WINDOW_HOURS (older openings are never mailed).
ANNOUNCEMENT_EMAIL_BATCH_SIZE = max(1, int(os.environ.get("ANNOUNCEMENT_EMAIL_BATCH_SIZE", "50")))
ANNOUNCEMENT_EMAILS_PER_MINUTE = max(
    1, int(os.environ.get("ANNOUNCEMENT_EMAILS_PER_MINUTE", "300"))
)
DRIP_EMAIL_WINDOW_HOURS = max(1, int(os.environ.get("DRIP_EMAIL_WINDOW_HOURS", "48")))
# Work done in chained batches by the task worker (announcement emails, bulk student
# imports) whose chain stopped (a worker died mid-batch) is resumed by the periodic
# `resume_announcements` / `resume_imports` once nothing of it was taken for this long.
STALLED_BATCH_MINUTES = max(1, int(os.environ.get("STALLED_BATCH_MINUTES", "15")))
# Bulk student import (roster app): the largest file accepted, the most students per
# file, and how many rows one task run applies before enqueueing the next batch.
ROSTER_IMPORT_MAX_BYTES = max(1024, int(os.environ.get("ROSTER_IMPORT_MAX_BYTES", "5242880")))
ROSTER_IMPORT_MAX_ROWS = max(1, int(os.environ.get("ROSTER_IMPORT_MAX_ROWS", "5000")))
ROSTER_IMPORT_BATCH_SIZE = max(1, int(os.environ.get("ROSTER_IMPORT_BATCH_SIZE", "50")))
# The worker (`manage.py db_worker`, ops/management/commands/db_worker.py) reconnects
# after a database outage with exponential backoff from 1 s up to this many seconds.
TASK_WORKER_RECONNECT_MAX_SECONDS = float(os.environ.get("TASK_WORKER_RECONNECT_MAX_SECONDS", "30"))

# --- storage -----------------------------------------------------------------
AWS_REGION = os.environ.get("AWS_REGION", "auto")
AWS_ACCESS_KEY_ID = os.environ.get("AWS_ACCESS_KEY_ID", "")
AWS_SECRET_ACCESS_KEY = os.environ.get("AWS_SECRET_ACCESS_KEY", "")
CLOUDFLARE_API_TOKEN = os.environ.get("CLOUDFLARE_API_TOKEN", "")
# Cloudflare for SaaS (custom domains, automated mode: domains/cloudflare.py) is on when
# both the token and the SaaS zone's id are set. CLOUDFLARE_API_BASE_URL: empty = the
# SDK's default (https://api.cloudflare.com/client/v4); the tests point it at a fake.
CLOUDFLARE_ZONE_ID = os.environ.get("CLOUDFLARE_ZONE_ID", "").strip()
CLOUDFLARE_API_BASE_URL = os.environ.get("CLOUDFLARE_API_BASE_URL", "").strip()
CLOUDFLARE_MAX_RETRIES = int(os.environ.get("CLOUDFLARE_MAX_RETRIES", "2"))
CLOUDFLARE_TIMEOUT_SECONDS = float(os.environ.get("CLOUDFLARE_TIMEOUT_SECONDS", "15"))
CLOUDFLARE_R2_ENDPOINT = os.environ.get("CLOUDFLARE_R2_ENDPOINT", "")
CLOUDFLARE_R2_BUCKET = os.environ.get("CLOUDFLARE_R2_BUCKET", "")
# Any S3-compatible server works (AWS S3, R2, SeaweedFS): the R2 names are the
# seed's; S3_ENDPOINT_URL / S3_BUCKET are accepted as generic aliases.
S3_ENDPOINT_URL = os.environ.get("S3_ENDPOINT_URL") or CLOUDFLARE_R2_ENDPOINT
S3_BUCKET = os.environ.get("S3_BUCKET") or CLOUDFLARE_R2_BUCKET
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"

if S3_BUCKET:
    _default_storage: dict[str, Any] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": S3_ENDPOINT_URL or None,
            "region_name": AWS_REGION,
            "access_key": AWS_ACCESS_KEY_ID,
            "secret_key": AWS_SECRET_ACCESS_KEY,
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": 300,
            "file_overwrite": False,
            "addressing_style": "path",
            "signature_version": "s3v4",
        },
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": MEDIA_URL},
    }

# STATIC_MANIFEST=true (make serve, production): static files come from `collectstatic`
# (run with the same setting) with content-hashed names and gzip copies, and WhiteNoise
# serves the hashed ones with a far-future, immutable Cache-Control. Without it (tests,
# `make dev`) they are served straight from the source tree under their plain names.
STATIC_MANIFEST = env_bool("STATIC_MANIFEST", False)
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "courseplatform.ops.static_storage.StaticStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "courseplatform" / "static"]
# Without the manifest, serve straight from the finders (no collectstatic needed).
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", not STATIC_MANIFEST)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- email -----------------------------------------------------------------
# EMAIL_URL: "console:" (default, prints mail to the terminal), "smtp://user:pass@host:587"
# (STARTTLS), "smtps://user:pass@host:465" (TLS), or "dummy:". EMAIL_HOST & co. are
# accepted as an alternative to EMAIL_URL.
EMAIL_URL = os.environ.get("EMAIL_URL", "")
if not EMAIL_URL and os.environ.get("EMAIL_HOST"):
    EMAIL_URL = "smtp://{user}:{password}@{host}:{port}".format(
        user=os.environ.get("EMAIL_HOST_USER", ""),
        password=os.environ.get("EMAIL_HOST_PASSWORD", ""),
        host=os.environ["EMAIL_HOST"],
        port=os.environ.get("EMAIL_PORT", "587"),
    )
_email = dj_email_url.parse(EMAIL_URL or "console:")
_mail_options: dict[str, Any] = {}
if _email["EMAIL_BACKEND"].endswith("smtp.EmailBackend"):
    _mail_options = {
        "host": _email["EMAIL_HOST"],
        "port": _email["EMAIL_PORT"],
        "username": _email["EMAIL_HOST_USER"] or None,
        "password": _email["EMAIL_HOST_PASSWORD"] or None,
        "use_tls": env_bool("EMAIL_USE_TLS", bool(_email["EMAIL_USE_TLS"])),
        "use_ssl": env_bool("EMAIL_USE_SSL", bool(_email["EMAIL_USE_SSL"])),
        "timeout": 20,
    }
MAILERS = {"default": {"BACKEND": _email["EMAIL_BACKEND"], "OPTIONS": _mail_options}}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", f"no-reply@{PLATFORM_DOMAIN}")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- auth --------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["courseplatform.accounts.backends.SchoolEmailBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24
LOGIN_LINK_MAX_AGE = 60
# (school, email) is unique via a model constraint, not the email column alone;
# our backend always authenticates within the request's school.
SILENCED_SYSTEM_CHECKS = ["auth.W004"]

# Rate limits: "count/seconds".
RATE_LIMIT_LOGIN_IP = os.environ.get("RATE_LIMIT_LOGIN_IP", "30/900")
RATE_LIMIT_LOGIN_ACCOUNT = os.environ.get("RATE_LIMIT_LOGIN_ACCOUNT", "5/900")
RATE_LIMIT_SIGNUP_IP = os.environ.get("RATE_LIMIT_SIGNUP_IP", "10/3600")
# Student sign-ups are counted per school and address: a class behind one school
# network signs up together, and that must not exhaust the budget of other schools.
RATE_LIMIT_STUDENT_SIGNUP_IP = os.environ.get("RATE_LIMIT_STUDENT_SIGNUP_IP", "80/3600")
RATE_LIMIT_RESET_IP = os.environ.get("RATE_LIMIT_RESET_IP", "10/3600")
# Trust X-Forwarded-For from this many proxies (Caddy in front = 1).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

# --- metrics (/metrics, ops/prometheus.py) -----------------------------------------
# Who may scrape: a bearer token, and/or client addresses in these networks. With
# neither set, /metrics refuses everyone (nothing is public by default).
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "").strip()
try:
    METRICS_ALLOWED_CIDRS = [
        ipaddress.ip_network(part.strip(), strict=False)
        for part in os.environ.get("METRICS_ALLOWED_CIDRS", "").split(",")
        if part.strip()
    ]
except ValueError as _exc:
    raise ImproperlyConfigured(f"METRICS_ALLOWED_CIDRS: {_exc}") from None

# --- security ----------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = PLATFORM_SCHEME == "https"
CSRF_COOKIE_SECURE = PLATFORM_SCHEME == "https"
# The "form expired" page in the visitor's language (tenancy/errors.py).
CSRF_FAILURE_VIEW = "courseplatform.tenancy.errors.csrf_failure"
CSRF_TRUSTED_ORIGINS = [
    f"{PLATFORM_SCHEME}://{PLATFORM_DOMAIN}",
    f"{PLATFORM_SCHEME}://*.{PLATFORM_DOMAIN}",
]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PLATFORM_SCHEME == "https":
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # The edge (deploy/Caddyfile) redirects HTTP to HTTPS before the app sees a request,
    # and health checks reach the app over plain HTTP: no redirect here (security.W008).
    SILENCED_SYSTEM_CHECKS.append("security.W008")
# Strict-Transport-Security on every HTTPS answer of SecurityMiddleware (HSTS_SECONDS,
# default a year; 0 turns it off). Not includeSubDomains: on a school's root custom
# domain it would force HTTPS onto the owner's other subdomains, which are not ours.
SECURE_HSTS_SECONDS = (
    int(os.environ.get("HSTS_SECONDS", "31536000")) if PLATFORM_SCHEME == "https" else 0
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = False
SECURE_HSTS_PRELOAD = False  # preloading is for a domain's own operator to decide
SILENCED_SYSTEM_CHECKS += ["security.W005", "security.W021"]  # both chosen above

# Content-Security-Policy on every response, built by ops/csp.py (which explains each
# directive): no inline script anywhere. CSP_EXTRA_ORIGINS (comma-separated) adds origins
# to img/media/connect-src; CSP_REPORT_URI adds report-uri; CSP_REPORT_ONLY=true sends
# the policy as Content-Security-Policy-Report-Only instead of enforcing it.
from courseplatform.ops.csp import build_policy as _build_csp  # noqa: E402

_csp = _build_csp(
    platform_domain=PLATFORM_DOMAIN,
    platform_scheme=PLATFORM_SCHEME,
    storage_endpoint=S3_ENDPOINT_URL,
    storage_bucket=S3_BUCKET,
    cdn_base_url=os.environ.get("VIDEO_CDN_BASE_URL", ""),
    extra_origins=[o for o in os.environ.get("CSP_EXTRA_ORIGINS", "").split(",") if o.strip()],
    report_uri=os.environ.get("CSP_REPORT_URI", ""),
)
CSP_REPORT_ONLY = env_bool("CSP_REPORT_ONLY", False)
SECURE_CSP = {} if CSP_REPORT_ONLY else _csp
SECURE_CSP_REPORT_ONLY = _csp if CSP_REPORT_ONLY else {}

# --- i18n --------------------------------------------------------------------
# English is the source language; every other language has complete catalogs
# (tests/test_translations.py). README "Languages" says how to add one.
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("es", "Español"),
    ("de", "Deutsch"),
    ("pt-br", "Português (Brasil)"),
    ("ar", "العربية"),
]
# A visitor's own choice (the footer's language switcher); a signed-in student's choice
# is saved on the account instead (accounts/language.py).
LANGUAGE_COOKIE_NAME = "cp_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
# One catalog per app, beside its code, and the project's templates in locale/: listed
# app first so that `makemessages` run from the root files each string under the app
# whose directory holds it (scripts/messages.py).
_CATALOG_APPS = [
    "accounts", "access", "analytics", "api", "certificates", "console", "courses",
    "dashboard", "domains", "notices", "onboarding", "ops", "portability", "quizzes",
    "roster", "sites", "tenancy", "video", "webhooks",
]  # fmt: skip
LOCALE_PATHS = [BASE_DIR / "courseplatform" / app / "locale" for app in _CATALOG_APPS] + [
    BASE_DIR / "locale"
]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- console ------------------------------------------------------------------
# How long a staff member may act as a school's owner from the console (minutes).
IMPERSONATION_MINUTES = max(1, int(os.environ.get("IMPERSONATION_MINUTES", "15")))
# Each web process adds its request count to the console's weekly figure in the cache
# at most this often (ops/requestcount.py): no write per request.
REQUEST_COUNT_FLUSH_SECONDS = max(1.0, float(os.environ.get("REQUEST_COUNT_FLUSH_SECONDS", "60")))

# --- logging -----------------------------------------------------------------
# JSON lines (structlog) with request_id, school_id and user_id bound per request.
# LOG_FORMAT=console gives coloured, human-readable lines for development.
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")
_shared_processors: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso"),
]
structlog.configure(
    processors=[*_shared_processors, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
    logger_factory=structlog.stdlib.LoggerFactory(),
    wrapper_class=structlog.stdlib.BoundLogger,
    cache_logger_on_first_use=True,
)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structured": {
            "()": structlog.stdlib.ProcessorFormatter,
            "processors": [
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.dev.ConsoleRenderer()
                if LOG_FORMAT == "console"
                else structlog.processors.JSONRenderer(),
            ],
            "foreign_pre_chain": _shared_processors,
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- uploads -------------------------------------------------------------------
MAX_IMAGE_BYTES = int(os.environ.get("MAX_IMAGE_BYTES", str(5 * 1024 * 1024)))
MAX_ATTACHMENT_BYTES = int(os.environ.get("MAX_ATTACHMENT_BYTES", str(100 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- course archives (portability/course_archive) ----------------------------------
# An uploaded course archive may be at most this big; its zip at most this many entries
# and this many bytes once unpacked, no entry (over 1 MiB) unpacked more than
# COURSE_ARCHIVE_MAX_RATIO times its packed size. A finished export is offered through
# a signed link valid COURSE_ARCHIVE_LINK_TTL_SECONDS, and kept COURSE_ARCHIVE_KEEP_HOURS.
COURSE_ARCHIVE_MAX_UPLOAD_BYTES = int(
    os.environ.get("COURSE_ARCHIVE_MAX_UPLOAD_BYTES", str(2 * 1024**3))
)
COURSE_ARCHIVE_MAX_ENTRIES = int(os.environ.get("COURSE_ARCHIVE_MAX_ENTRIES", "20000"))
COURSE_ARCHIVE_MAX_UNPACKED_BYTES = int(
    os.environ.get("COURSE_ARCHIVE_MAX_UNPACKED_BYTES", str(8 * 1024**3))
)
COURSE_ARCHIVE_MAX_RATIO = int(os.environ.get("COURSE_ARCHIVE_MAX_RATIO", "100"))
COURSE_ARCHIVE_LINK_TTL_SECONDS = int(os.environ.get("COURSE_ARCHIVE_LINK_TTL_SECONDS", "3600"))
COURSE_ARCHIVE_KEEP_HOURS = int(os.environ.get("COURSE_ARCHIVE_KEEP_HOURS", "72"))

# --- site pages ------------------------------------------------------------------
# Published revisions kept per page (older ones are deleted on publish; at least 1).
PAGE_REVISIONS_KEPT = max(1, int(os.environ.get("PAGE_REVISIONS_KEPT", "50")))

# --- custom domains ----------------------------------------------------------------
# A school's own domain (domains app) proves ownership with DNS records the owner
# creates: a CNAME to CUSTOM_DOMAIN_TARGET (empty: the school's own platform hostname,
# <slug>.PLATFORM_DOMAIN) or, at a zone apex, A/AAAA records to CUSTOM_DOMAIN_IPV4 /
# CUSTOM_DOMAIN_IPV6 (comma-separated), plus TXT _courseplatform.<domain> = its token.
# An active domain whose proof disappears keeps serving CUSTOM_DOMAIN_GRACE_HOURS.
# DNS_RESOLVERS: comma-separated ip[:port] (IPv6 as [ip]:port) asked for the records;
# empty = the system's resolvers. DNS_TIMEOUT_SECONDS bounds each check.
CUSTOM_DOMAIN_TARGET = os.environ.get("CUSTOM_DOMAIN_TARGET", "").strip().lower().rstrip(".")
CUSTOM_DOMAIN_IPV4 = [
    a.strip() for a in os.environ.get("CUSTOM_DOMAIN_IPV4", "").split(",") if a.strip()
]
CUSTOM_DOMAIN_IPV6 = [
    a.strip().lower() for a in os.environ.get("CUSTOM_DOMAIN_IPV6", "").split(",") if a.strip()
]
CUSTOM_DOMAIN_GRACE_HOURS = float(os.environ.get("CUSTOM_DOMAIN_GRACE_HOURS", "72"))
DNS_RESOLVERS = [r.strip() for r in os.environ.get("DNS_RESOLVERS", "").split(",") if r.strip()]
DNS_TIMEOUT_SECONDS = float(os.environ.get("DNS_TIMEOUT_SECONDS", "5"))
# manage.py verify_custom_domains (every minute from scripts/serve.py) re-checks each
# live domain once its last check is older than this.
CUSTOM_DOMAIN_CHECK_MINUTES = float(os.environ.get("CUSTOM_DOMAIN_CHECK_MINUTES", "10"))
# manage.py refresh_analytics (every minute from scripts/serve.py) recomputes a school's
# completion and lesson-funnel rollups once they are older than this (analytics/rollups.py).
ANALYTICS_REFRESH_MINUTES = int(os.environ.get("ANALYTICS_REFRESH_MINUTES", "15"))
# A domain still pending (never verified) this many days after it was added is removed
# by that job, so an unproven claim cannot hold a name away from its real owner.
CUSTOM_DOMAIN_PENDING_DAYS = float(os.environ.get("CUSTOM_DOMAIN_PENDING_DAYS", "14"))
# "Check now" presses per school (each asks DNS up to four questions).
RATE_LIMIT_DOMAIN_CHECK = os.environ.get("RATE_LIMIT_DOMAIN_CHECK", "20/600")

# --- access codes ----------------------------------------------------------------
# Lookup digests are HMAC-SHA256 keyed with ACCESS_CODE_HMAC_KEY. Changing it makes
# every existing code unfindable, so it is not rotated (it never leaves the server).
# ENCRYPTION_KEYS (alias ACCESS_CODE_ENCRYPTION_KEYS): comma-separated Fernet keys,
# newest first, for secrets kept at rest (access codes, video keys). To rotate, put a
# new key first, keep the old ones, run `manage.py rotate_access_code_keys`, then drop
# the old keys. Without them, a key is derived from SECRET_KEY.
ACCESS_CODE_HMAC_KEY = (
    os.environ.get("ACCESS_CODE_HMAC_KEY")
    or hashlib.sha256(f"access-code-digest:{SECRET_KEY}".encode()).hexdigest()
).encode()
ENCRYPTION_KEYS = [
    key.strip()
    for key in (
        os.environ.get("ENCRYPTION_KEYS") or os.environ.get("ACCESS_CODE_ENCRYPTION_KEYS", "")
    ).split(",")
    if key.strip()
] or [
    base64.urlsafe_b64encode(
        hashlib.sha256(f"access-code-encryption:{SECRET_KEY}".encode()).digest()
    ).decode()
]
# Wrong (malformed or unknown) codes per window; answers about real codes (fully used,
# expired, revoked) and successes never count. The per-IP budget is larger because a
# whole class often shares one school address.
# The school API (courseplatform/api): requests per token and window, page sizes, and
# how often a token's "last used" time and address are written.
RATE_LIMIT_API_TOKEN = os.environ.get("RATE_LIMIT_API_TOKEN", "600/60")
API_PAGE_MAX = int(os.environ.get("API_PAGE_MAX", "200"))
API_TOKEN_LAST_USED_INTERVAL = int(os.environ.get("API_TOKEN_LAST_USED_INTERVAL", "60"))
# How long a video upload URL handed out by the API (local storage: the tus URL) works.
API_VIDEO_UPLOAD_URL_SECONDS = int(os.environ.get("API_VIDEO_UPLOAD_URL_SECONDS", "86400"))

RATE_LIMIT_REDEEM_IP = os.environ.get("RATE_LIMIT_REDEEM_IP", "60/900")
RATE_LIMIT_REDEEM_ACCOUNT = os.environ.get("RATE_LIMIT_REDEEM_ACCOUNT", "10/900")

# --- certificates (README "Certificates") -----------------------------------------
# CERTIFICATE_SIGNING_KEYS: comma-separated HMAC-SHA256 keys, newest first. PDFs are
# signed with the first; a PDF signed with any listed key verifies, so rotate by putting
# a new key first and keeping the old ones as long as their certificates should verify.
# CERTIFICATE_SIGNING_KEY (one key) is accepted too. Without either a key is derived from
# SECRET_KEY: fine for development, refused by `manage.py check --deploy`
# (certificates.E001), because changing SECRET_KEY would then make every issued PDF fail.
CERTIFICATE_SIGNING_KEYS = [
    key.strip()
    for key in (
        os.environ.get("CERTIFICATE_SIGNING_KEYS") or os.environ.get("CERTIFICATE_SIGNING_KEY", "")
    ).split(",")
    if key.strip()
]
CERTIFICATE_SIGNING_KEY_FROM_ENV = bool(CERTIFICATE_SIGNING_KEYS)
CERTIFICATE_SIGNING_KEYS = CERTIFICATE_SIGNING_KEYS or [
    hashlib.sha256(f"certificate-signing:{SECRET_KEY}".encode()).hexdigest()
]
# Largest PDF the public verification form accepts (a certificate is ~50-200 KB).
CERTIFICATE_UPLOAD_MAX_BYTES = int(os.environ.get("CERTIFICATE_UPLOAD_MAX_BYTES", "2097152"))
# "Issue to everyone who qualifies": up to this many students are issued in the request,
# more go to the task worker (default queue).
CERTIFICATE_BULK_INLINE_MAX = int(os.environ.get("CERTIFICATE_BULK_INLINE_MAX", "25"))
# Verification uploads per IP and window (each parses a PDF).
RATE_LIMIT_CERTIFICATE_VERIFY_IP = os.environ.get("RATE_LIMIT_CERTIFICATE_VERIFY_IP", "30/600")

# --- taking a school away: whole-school export and closure (portability) -----------------
# A closed school serves only its owner for this many days (export, cancel), then the
# hourly purge removes every row and stored object of it.
SCHOOL_DELETION_GRACE_DAYS = max(0.0, float(os.environ.get("SCHOOL_DELETION_GRACE_DAYS", "30")))
# How long a finished whole-school export (and its emailed link) can be downloaded
# before housekeeping deletes it.
SCHOOL_EXPORT_TTL_HOURS = max(1.0, float(os.environ.get("SCHOOL_EXPORT_TTL_HOURS", "168")))

# --- video playback ----------------------------------------------------------------
# Segment, init, poster and key URLs carry `?verify=<issued>-<mac>` tokens in the format
# Cloudflare's WAF function is_timed_hmac_valid_v0() checks (see video/signing.py).
# VIDEO_SIGNING_SECRETS: comma-separated "current,previous"; URLs are signed with the
# first and any listed secret is accepted, so rotate by putting a new secret first
# (and adding it to the CDN rule) before dropping the old one. Without it, a secret is
# derived from SECRET_KEY. VIDEO_TOKEN_TTL_SECONDS: how long a token is valid after it
# was issued (the ttl of the Cloudflare rule must match); playlists are re-signed on
# every fetch. VIDEO_CDN_BASE_URL (e.g. https://cdn.example.com): segment URLs become
# <cdn>/<storage key>?verify=... (R2 behind Cloudflare, validated at the edge); without
# it local storage is served by the app's token-checking view and S3 storage through
# presigned GET URLs.
VIDEO_SIGNING_SECRETS = [
    secret.strip()
    for secret in os.environ.get("VIDEO_SIGNING_SECRETS", "").split(",")
    if secret.strip()
] or [hashlib.sha256(f"video-signing:{SECRET_KEY}".encode()).hexdigest()]
VIDEO_TOKEN_TTL_SECONDS = int(os.environ.get("VIDEO_TOKEN_TTL_SECONDS", "300"))
VIDEO_CDN_BASE_URL = os.environ.get("VIDEO_CDN_BASE_URL", "").strip().rstrip("/")

# --- video processing -----------------------------------------------------------
VIDEO_HEARTBEAT_TIMEOUT_SECONDS = int(os.environ.get("VIDEO_HEARTBEAT_TIMEOUT_SECONDS", "300"))
VIDEO_MAX_ATTEMPTS = int(os.environ.get("VIDEO_MAX_ATTEMPTS", "3"))
VIDEO_RETRY_BACKOFF_SECONDS = int(os.environ.get("VIDEO_RETRY_BACKOFF_SECONDS", "30"))
VIDEO_WORK_DIR = os.environ.get("VIDEO_WORK_DIR", "")
VIDEO_X264_PRESET = os.environ.get("VIDEO_X264_PRESET", "veryfast")
VIDEO_FFMPEG_BINARY = os.environ.get("VIDEO_FFMPEG_BINARY", "")
# When the player gives up on a video it reports once (a "video.playback_failed" log
# line); reports are limited per viewer and address, and per address.
RATE_LIMIT_VIDEO_REPORT = os.environ.get("RATE_LIMIT_VIDEO_REPORT", "10/600")
RATE_LIMIT_VIDEO_REPORT_IP = os.environ.get("RATE_LIMIT_VIDEO_REPORT_IP", "120/3600")

# --- webhooks (README "Webhooks") ---------------------------------------------------
# Deliveries go only to public addresses, checked at send time and after every redirect.
# WEBHOOKS_ALLOW_LOOPBACK lets them reach 127.0.0.0/8 and ::1: for the test suite's local
# receiver only, never in production.
WEBHOOKS_ALLOW_LOOPBACK = env_bool("WEBHOOKS_ALLOW_LOOPBACK", False)
WEBHOOKS_CONNECT_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOKS_CONNECT_TIMEOUT_SECONDS", "5"))
WEBHOOKS_READ_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOKS_READ_TIMEOUT_SECONDS", "10"))
# The whole request, redirects included: a receiver dribbling its answer is cut off.
WEBHOOKS_TOTAL_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOKS_TOTAL_TIMEOUT_SECONDS", "30"))
WEBHOOKS_MAX_REDIRECTS = int(os.environ.get("WEBHOOKS_MAX_REDIRECTS", "3"))
# Retries: the n-th retry waits BASE x 2^(n-1) seconds (at most MAX_DELAY, +-20 % jitter),
# for as long as the delivery is younger than the window.
WEBHOOKS_RETRY_BASE_SECONDS = int(os.environ.get("WEBHOOKS_RETRY_BASE_SECONDS", "30"))
WEBHOOKS_RETRY_MAX_DELAY_SECONDS = int(os.environ.get("WEBHOOKS_RETRY_MAX_DELAY_SECONDS", "21600"))
WEBHOOKS_RETRY_WINDOW_SECONDS = int(os.environ.get("WEBHOOKS_RETRY_WINDOW_SECONDS", "86400"))
# An endpoint is disabled (and its owner emailed) after this many deliveries in a row
# failed for good.
WEBHOOKS_DISABLE_AFTER_FAILURES = int(os.environ.get("WEBHOOKS_DISABLE_AFTER_FAILURES", "5"))
# After "rotate secret", the previous secret keeps signing (next to the new one) this long.
WEBHOOKS_SECRET_OVERLAP_SECONDS = int(os.environ.get("WEBHOOKS_SECRET_OVERLAP_SECONDS", "86400"))

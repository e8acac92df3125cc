"""bidhall settings: one module, driven by the environment.

Embedded default (a fresh checkout): SQLite in WAL mode with IMMEDIATE transactions and the in-memory
channel layer. Production: DATABASE_URL=postgres://… and REDIS_URL=redis://… with DEBUG off.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from lib.env import (
    envbool,
    envfloat,
    envint,
    envlist,
    envsecret,
    envstr,
    secret_weakness,
    secrets_left_at_dev_default,
)
from lib.pdfkeys import DEV_CERTIFICATE_PEM, DEV_KEY_PEM, is_development_pair, material_problem

BASE_DIR = Path(__file__).resolve().parent.parent

# Development mode is asked for (`make run` and the test settings set DEBUG=1); without it the
# settings are production's and refuse development or weak secrets at the end of this module.
DEBUG = envbool("DEBUG", False)
SECRET_KEY = envsecret(
    "SECRET_KEY", "dev-only-insecure-secret-key-change-me-bidhall-5f2c9a7e1d4b8036"
)
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = envstr("SITE_URL", "http://127.0.0.1:8000")
# Reverse proxies in front of daphne whose X-Forwarded-For is believed (the audit chain records the
# client's address, not the proxy's). 0 = use the socket's peer address.
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 0)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "axes",
    "csp",
    "channels",
    "audit",
    "accounts",
    "clock",
    "notifications",
    "signing",
    "trading",
    "deposits",
    "experts",
    "bidding",
    "contracts",
    "frameworks",
    "complaints",
    "supervision",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Refuses NUL, control characters and lone surrogates in the path, query, cookies and form/JSON
    # bodies before anything reads them; after the locale so the refusal is in the reader's language.
    "lib.edge.EdgeMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # When a signed-in user's session was last used, kept in the session (accounts/sessions.py).
    "accounts.sessions.SessionActivityMiddleware",
    # Before CSRF: the CSRF check reads a form's body for its token, and a user whose role may not
    # upload on a route is refused before any of an upload is read (lib/uploads.py).
    "lib.uploads.UploadRoleMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its answer (accounts/login.py).
    "axes.middleware.AxesMiddleware",
]
# Under /api/ a CSRF failure answers in the API's error shape (a plain page elsewhere).
CSRF_FAILURE_VIEW = "lib.edge.csrf_failure"

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.current_actor",
                "notifications.context_processors.unread",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
DATABASE_URL = envstr("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=envint("CONN_MAX_AGE", 60))
    }
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": envstr("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so two writers never both read-then-write
                # (SQLite would otherwise fail one of them with "database is locked" mid-transaction).
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # Channels' consumers run in threads; an in-memory test database cannot be shared by them.
            "TEST": {"NAME": envstr("SQLITE_TEST_PATH", str(BASE_DIR / "test_db.sqlite3"))},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channels -------------------------------------------------------------------------------------
REDIS_URL = envstr("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # socket_timeout above channels_redis's 5 s BZPOPMIN: redis-py 8 (unlike 6) defaults it to
            # 5 s, and an idle consumer's receive then raised TimeoutError, killing one socket per
            # process every 5 s (docs/performance.md, two processes over Redis).
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": 15}],
                "capacity": 1500,
                "expiry": 60,
            },
        }
    }
else:
    # One process only: the in-memory layer cannot carry messages between daphne processes.
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Auth -----------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username+address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row; the public reads published data only
GUARDIAN_RAISE_403 = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Organization self-registration: the business licence's largest size (its route's body cap,
# lib/uploads.py), and the addresses that approve or return applications (accounts/registration.py).
LICENSE_MAX_BYTES = envint("LICENSE_MAX_BYTES", 10 * 1024 * 1024)
# Password reset mails asked per client address (and per email address) per hour.
PASSWORD_RESET_RATE = envint("PASSWORD_RESET_RATE", 5)

# --- Email ----------------------------------------------------------------------------------------
# Verification links, invitations and password resets. Development and tests: the console (pytest
# swaps in the in-memory outbox); production: SMTP with the settings below.
# The email simulator (notifications/email_simulator.py) keeps every message in the database, browsable
# by center staff at /notifications/simulator/email/: development and the demo only, refused with
# DEBUG off. While it is on it is the default backend.
EMAIL_SIMULATOR = envbool("EMAIL_SIMULATOR", DEBUG)
EMAIL_SIMULATOR_BACKEND = "notifications.email_simulator.EmailBackend"
EMAIL_BACKEND = envstr(
    "EMAIL_BACKEND",
    EMAIL_SIMULATOR_BACKEND
    if EMAIL_SIMULATOR
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 30)
EMAIL_HOST = envstr("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "bidhall <noreply@localhost>")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG

# Login lockout (django-axes; the login page and POST /api/v1/auth/token/ both go through
# `authenticate(request, …)`). Failures count per username *and* client address together: by
# username alone anyone could lock a bidder out just before an auction; by address alone one
# guesser would lock out a whole company behind one NAT address. The address is the one the audit
# chain records (lib.addresses.client_ip, honouring TRUSTED_PROXY_COUNT). Attempts live in the
# database, so every daphne process sees them and staff can lift a lockout in the admin.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=envint("LOGIN_LOCKOUT_MINUTES", 15))
AXES_RESET_ON_SUCCESS = True
# A try during the lockout neither extends it nor grows the attempt's record.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "accounts.login.axes_client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.login.lockout_response"
AXES_VERBOSE = False

# --- Transport security ---------------------------------------------------------------------------
# SECURE_SSL=1 when the site is reached over HTTPS (daphne's own TLS endpoint, or a proxy in front
# of it): plain HTTP is redirected, browsers are told to insist on HTTPS (HSTS), cookies go over
# TLS only.
SECURE_SSL = envbool("SECURE_SSL", False)
if SECURE_SSL:
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
    SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", False)
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
# Whether the browser's request came over HTTPS is the trusted proxy's word (X-Forwarded-Proto), as
# its X-Forwarded-For is for the client's address; without a trusted proxy nobody's header is.
if TRUSTED_PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy (django-csp): scripts and styles only from this site's own files — no
# inline <script>, no on*= handlers, no style="" (templates pass data through data- attributes and
# json_script). 'self' in connect-src covers the same host's ws:/wss: sockets.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# --- Language and time ----------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# Stored in UTC, shown and computed in Asia/Shanghai.
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_ROOT = Path(envstr("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "/media/"  # never served directly: downloads go through views that check permission
# Request bodies, capped before anything reads them (lib/uploads.py: 413 by Content-Length, or by
# counting a body sent without one). Multipart bodies of routes marked `accepts_uploads` (tender
# documents, bid files, guarantees, bank statements) take up to MAX_UPLOAD_BYTES; every other body
# MAX_REQUEST_BYTES.
MAX_UPLOAD_BYTES = envint("MAX_UPLOAD_BYTES", 200 * 1024 * 1024)
MAX_REQUEST_BYTES = envint("MAX_REQUEST_BYTES", 2560 * 1024)
# Form fields other than files, and any body read whole (request.body), are held to the same cap.
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES
# Above this an uploaded file (and a request body read by Django) goes to a temporary file on disk,
# never memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2560 * 1024
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Cache ----------------------------------------------------------------------------------------
# Shared by every daphne process through Redis (API throttle counts must be); one process's memory
# without it.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "bidhall",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- API ------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Every operation documents the error responses it can give (lib.schema.AutoSchema).
    "DEFAULT_SCHEMA_CLASS": "lib.schema.AutoSchema",
    "EXCEPTION_HANDLER": "lib.api.exception_handler",
    # DRF's parsers, checking form fields for unsafe text and taking the edge's parse of a JSON body.
    "DEFAULT_PARSER_CLASSES": [
        "lib.edge.JSONParser",
        "lib.edge.FormParser",
        "lib.edge.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "lib.api.Pagination",
    "PAGE_SIZE": 50,
    # Money travels as strings so no client ever parses a price into a float.
    "COERCE_DECIMAL_TO_STRING": True,
    # Per user when logged in, per client address otherwise; `auth` is the token endpoint's, per
    # address. Over a rate: 429 THROTTLED with Retry-After.
    "DEFAULT_THROTTLE_CLASSES": ["lib.throttling.UserThrottle", "lib.throttling.AnonThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "user": envstr("API_THROTTLE_USER", "1200/minute"),
        "anon": envstr("API_THROTTLE_ANON", "300/minute"),
        "auth": envstr("API_THROTTLE_AUTH", "20/minute"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "bidhall API",
    "DESCRIPTION": '公共资源交易平台 API. Errors: {"error": {"code": ..., "message": ...}}.',
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # `<id:pk>` (lib.edge.IdConverter): an integer that fits a bigint.
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}},
    # The kinds an organization may register itself as (a subset of Organization.Kind, which keeps
    # the name it had before there were two sets of organization kinds).
    "ENUM_NAME_OVERRIDES": {
        "KindEnum": "accounts.models.Organization.Kind",
        "RegistrableKindEnum": "accounts.registration.REGISTRABLE_KIND_VALUES",
        "DeliveryStatusEnum": "notifications.models.Delivery.Status",
        "ApplicationStatusEnum": "accounts.models.OrganizationApplication.Status",
        "DeliveryChannelEnum": "notifications.models.Delivery.Channel",
    },
}

# --- Platform rules that are operator settings ----------------------------------------------------
# Deposit custody: one HMAC secret per bank, "BANK:secret,BANK2:secret2" (or DEPOSIT_BANK_SECRETS_FILE).
DEPOSIT_BANK_SECRETS = dict(
    pair.split(":", 1)
    for pair in envsecret(
        "DEPOSIT_BANK_SECRETS",
        "ICBC:dev-only-icbc-hmac-secret-7b3f91c2,CCB:dev-only-ccb-hmac-secret-48d0e6a5",
    ).split(",")
    if ":" in pair
)
# The bank that keeps the custody account; the demo's simulator signs as this bank.
DEPOSIT_CUSTODY_BANK = envstr("DEPOSIT_CUSTODY_BANK", "ICBC")
# The bank simulator page signs with the real bank secrets: demo and development only.
DEPOSIT_BANK_SIMULATOR = envbool("DEPOSIT_BANK_SIMULATOR", DEBUG)
# A bank message whose value time (起息/到账时间) lies more than this many seconds after the platform's
# clock is refused (VALUE_TIME_IN_FUTURE): money is value-dated when it arrives, not later, and a
# value time ahead of us would let a message claim an arrival that has not happened. It covers the
# drift between the bank's clock and ours.
DEPOSIT_VALUE_TIME_TOLERANCE_SECONDS = envint("DEPOSIT_VALUE_TIME_TOLERANCE_SECONDS", 300)
# Prefix of the virtual sub-account numbers handed to bidders (agreed with the custody bank).
DEPOSIT_ACCOUNT_PREFIX = envstr("DEPOSIT_ACCOUNT_PREFIX", "6222")
# Electronic signatures (signing/): a JSON file listing the CAs the center trusts, each
# {"name": ..., "certificate": "<PEM file>", "crl": "<file path or http(s) URL>"}; the CRL is fetched by
# the clock and consulted at every signature (a CA with no current CRL fails closed).
SIGNING_TRUSTED_CAS_FILE = envstr("SIGNING_TRUSTED_CAS_FILE", "")
# How often the clock fetches every trusted CA's CRL again (seconds): well inside a CRL's usual
# nextUpdate, so a CA that publishes daily is never stale while its distribution point answers.
SIGNING_CRL_REFRESH_SECONDS = envint("SIGNING_CRL_REFRESH_SECONDS", 3600)
# How long a statement handed to a signer stays signable (seconds).
SIGNING_CHALLENGE_SECONDS = envint("SIGNING_CHALLENGE_SECONDS", 600)
# Acts that may go ahead with the password session alone, without a signature: development and the
# test suite's workflow tests only ("all" or act names); refused at start-up with DEBUG off.
SIGNING_PASSWORD_FALLBACK = envlist("SIGNING_PASSWORD_FALLBACK", [])
# The CA simulator issues certificates to demo users (and to simulated guarantee issuers) and is
# trusted as a CA while on: development and the demo only, refused at start-up with DEBUG off.
CA_SIMULATOR = envbool("CA_SIMULATOR", DEBUG)
# 电子保函: the trusted CAs (SHA-256 fingerprints of their certificates, comma-separated) whose
# certificates may sign electronic guarantees — the CAs that certify banks and guarantors. A CA that
# only certifies bidders is trusted for their acts, never to vouch for a guarantee. The CA
# simulator's issuer root counts while CA_SIMULATOR is on (deposits.eguarantee.issues_guarantees).
GUARANTEE_ISSUER_CAS = envlist("GUARANTEE_ISSUER_CAS", [])
# Sealed bids: the master key (32 bytes, hex) that wraps every project's private key. Without it no
# bid can be opened; keep it outside the database and its backups.
BID_MASTER_KEY = envsecret(
    "BID_MASTER_KEY", "6465762d6f6e6c792d6269642d6d61737465722d6b65792d6368616e67652121"
)
# After the deadline opens the lot, bidders decrypt their own bids online within this window; a bid not
# decrypted in time is a failure caused by the bidder (counted as revocation).
BID_DECRYPTION_WINDOW_MINUTES = envint("BID_DECRYPTION_WINDOW_MINUTES", 60)
# Bidders confirm the opening record or object to it within this window (minutes).
OPENING_OBJECTION_MINUTES = envint("OPENING_OBJECTION_MINUTES", 30)
# Evaluation: hours added when more than a third of the committee asks for more time (条例 Art.48).
EVALUATION_EXTENSION_HOURS = envint("EVALUATION_EXTENSION_HOURS", 4)
# Experts: GP draws start at most this many working days before evaluation (财库〔2016〕198号), and an
# expert drawn for the same owner more than N times in M days is left out (0 turns the rule off).
EXPERT_GP_DRAW_WORKING_DAYS = envint("EXPERT_GP_DRAW_WORKING_DAYS", 2)
EXPERT_SAME_OWNER_MAX_DRAWS = envint("EXPERT_SAME_OWNER_MAX_DRAWS", 3)
EXPERT_SAME_OWNER_DAYS = envint("EXPERT_SAME_OWNER_DAYS", 90)
# A score further than this fraction from the committee median is flagged in the expert's rating.
EXPERT_SCORE_DEVIATION = envstr("EXPERT_SCORE_DEVIATION", "0.20")
# Annual demand-deposit rate paid as interest on refunds that carry it (银行同期活期存款利率).
DEPOSIT_DEMAND_RATE = envstr("DEPOSIT_DEMAND_RATE", "0.0035")
# Overrides of the legal defaults in trading/rules.py, per project kind (see that module).
TRADING_RULES: dict = {}
# OCDS: the center's registered ocid prefix (ocds-xxxxxx) and the publisher named in release packages.
OCDS_OCID_PREFIX = envstr("OCDS_OCID_PREFIX", "ocds-bidhal")
OCDS_PUBLISHER = envstr("OCDS_PUBLISHER", "珠海市公共资源交易中心")
# How often the clock re-verifies the whole audit chain, in seconds.
AUDIT_VERIFY_INTERVAL_SECONDS = envint("AUDIT_VERIFY_INTERVAL_SECONDS", 600)
# How long trading records and their audit trail are kept, in years. Records of public-resource
# trading must be kept at least 15 years; the center's default is 20. Nothing audited has a delete path.
AUDIT_RETENTION_YEARS = envint("AUDIT_RETENTION_YEARS", 20)
if AUDIT_RETENTION_YEARS < 15:
    raise ImproperlyConfigured(
        f"AUDIT_RETENTION_YEARS={AUDIT_RETENTION_YEARS}: records must be kept at least 15 years"
    )
# Signs evidence packages (Ed25519 seed, 32 bytes hex). Its public key is printed in every package and
# on the supervision pages; `verify_evidence` checks packages against it offline. The development
# default is public (it is right here), so `verify_evidence` refuses a package it signed unless told
# `--allow-dev-key`.
EVIDENCE_DEV_SIGNING_KEY = "6465762d6f6e6c792d65766964656e63652d7369676e696e672d6b6579212121"
EVIDENCE_SIGNING_KEY = envsecret("EVIDENCE_SIGNING_KEY", EVIDENCE_DEV_SIGNING_KEY)
# The platform's document certificate: every PDF the platform issues (announcements, records, notices,
# results, receipts, reports) carries its PAdES signature (lib/pdfsign.py, docs/pdf-signatures.md).
# PDF_SIGNING_KEY: PEM private key, ECDSA P-256 or RSA of 2048 bits or more; PDF_SIGNING_CERTIFICATE: the
# PEM certificate chain, leaf first (each also NAME_FILE). The development pair in lib/dev-keys/ is
# public, so it is refused with DEBUG off; a certificate that is not the key's, or not valid now, is
# refused always.
PDF_SIGNING_KEY = envsecret("PDF_SIGNING_KEY", DEV_KEY_PEM)
PDF_SIGNING_CERTIFICATE = envsecret("PDF_SIGNING_CERTIFICATE", DEV_CERTIFICATE_PEM)
_pdf_signing_problem = material_problem(
    PDF_SIGNING_KEY, PDF_SIGNING_CERTIFICATE, at=dt.datetime.now(dt.UTC)
)
if _pdf_signing_problem:
    raise ImproperlyConfigured(
        f"PDF_SIGNING_KEY / PDF_SIGNING_CERTIFICATE refused: {_pdf_signing_problem}"
    )
# Optional RFC 3161 time-stamping authority (http(s) URL): its timestamp in each signature proves when
# the document was signed, independently of the platform's clock (PAdES B-T). Empty: no timestamp, the
# signing time is the platform's own statement; every render then works offline.
PDF_SIGNING_TSA_URL = envstr("PDF_SIGNING_TSA_URL", "")
# The place a signature names (shown by readers beside the reason).
PDF_SIGNING_LOCATION = envstr("PDF_SIGNING_LOCATION", OCDS_PUBLISHER)
# How long a clock process may hold a claimed task before another process may take it over, in seconds.
CLOCK_LEASE_SECONDS = envint("CLOCK_LEASE_SECONDS", 60)
# How long an idle clock process sleeps between looks for due tasks, in seconds.
CLOCK_POLL_SECONDS = envfloat("CLOCK_POLL_SECONDS", 1.0)

# --- Notifications: email and SMS delivery (notifications/delivery.py, docs/notifications.md) -------
# How often the clock looks for queued email and SMS deliveries, in seconds.
NOTIFY_SWEEP_SECONDS = envint("NOTIFY_SWEEP_SECONDS", 5)
# A delivery is claimed for this long while it is sent; a clock killed meanwhile leaves it to another
# after the lease (the provider's idempotency key keeps that second send from reaching the person twice).
NOTIFY_SEND_LEASE_SECONDS = envint("NOTIFY_SEND_LEASE_SECONDS", 120)
# Attempts before a delivery is failed (and center staff told), and the back-off between them:
# base × 2^(attempt − 1), at most the cap, in seconds.
NOTIFY_MAX_ATTEMPTS = envint("NOTIFY_MAX_ATTEMPTS", 5)
NOTIFY_RETRY_BASE_SECONDS = envint("NOTIFY_RETRY_BASE_SECONDS", 30)
NOTIFY_RETRY_MAX_SECONDS = envint("NOTIFY_RETRY_MAX_SECONDS", 3600)
# SMS (notifications/sms.py): an HTTP provider when SMS_PROVIDER_URL is set (JSON POST, HMAC-SHA256 of
# the body with SMS_PROVIDER_KEY in the X-Bidhall-Signature header); otherwise the SMS simulator while
# SMS_SIMULATOR is on (development and the demo only, refused with DEBUG off); otherwise no SMS is sent
# and SMS deliveries fail with that answer.
SMS_PROVIDER_URL = envstr("SMS_PROVIDER_URL", "")
SMS_PROVIDER_KEY = envstr("SMS_PROVIDER_KEY", "")
SMS_PROVIDER_TIMEOUT_SECONDS = envfloat("SMS_PROVIDER_TIMEOUT_SECONDS", 10.0)
SMS_SIMULATOR = envbool("SMS_SIMULATOR", DEBUG)
# Phone verification: a 6-digit code valid this many minutes, this many tries, one send per interval.
PHONE_CODE_MINUTES = envint("PHONE_CODE_MINUTES", 10)
PHONE_CODE_MAX_TRIES = envint("PHONE_CODE_MAX_TRIES", 5)
PHONE_CODE_RESEND_SECONDS = envint("PHONE_CODE_RESEND_SECONDS", 60)

# --- Live auction rooms (bidding/auction) ---------------------------------------------------------
# Bids one socket may send per second; more are refused (RATE_LIMITED) without reaching the engine,
# so a script gone wrong cannot flood it. The benchmarks in bench/ raise it to load the engine from a
# few sockets.
AUCTION_BIDS_PER_SECOND = envint("AUCTION_BIDS_PER_SECOND", 20)
# A watcher whose unsent frames stay above Twisted's send-buffer limit (64 KiB) this many seconds is
# dropped (bidding.auction.hub._SlowSocketGuard); its page reconnects and starts from a fresh state.
AUCTION_SLOW_SOCKET_SECONDS = envfloat("AUCTION_SLOW_SOCKET_SECONDS", 10.0)
# On: a room frames each event once and writes the same bytes to every daphne socket. Off: every frame
# goes through the plain ASGI send (to compare, or as a way out should a daphne release change what
# bidding.auction.hub._daphne_socket relies on).
AUCTION_FRAME_ONCE = envbool("AUCTION_FRAME_ONCE", True)
# On: a prepared frame is sent with one direct send when nothing is queued before it. Off: through
# Twisted's buffered write (bidding.auction.hub._write_now).
AUCTION_SEND_NOW = envbool("AUCTION_SEND_NOW", True)
# The Redis pub/sub channel auction events cross between processes. Empty: named after the database in
# use when the room starts, "bidhall:<database name>:auction-events", so two deployments (or two test
# runs, whose database name differs) sharing one Redis never mix rooms.
AUCTION_REDIS_CHANNEL = envstr("AUCTION_REDIS_CHANNEL", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {
        "daphne": {"level": "WARNING"},
        "django.channels.server": {"level": "WARNING"},
        # Lockouts are warnings; every single failed login is not worth a line.
        "axes": {"level": "WARNING"},
    },
}

if not DEBUG:
    _left = secrets_left_at_dev_default()
    if _left:
        raise ImproperlyConfigured(
            "DEBUG is off but these secrets still have their development defaults: "
            + ", ".join(_left)
            + ". Set them in the environment (or NAME_FILE)."
        )
    _weak = [
        f"{name} {reason}"
        for name, reason in [
            ("SECRET_KEY", secret_weakness(SECRET_KEY, min_length=50)),
            ("BID_MASTER_KEY", secret_weakness(BID_MASTER_KEY, hex_length=64)),
            ("EVIDENCE_SIGNING_KEY", secret_weakness(EVIDENCE_SIGNING_KEY, hex_length=64)),
            *(
                (f"DEPOSIT_BANK_SECRETS ({bank})", secret_weakness(secret, min_length=32))
                for bank, secret in DEPOSIT_BANK_SECRETS.items()
            ),
        ]
        if reason
    ]
    if _weak:
        # Each names the variable and why, never the value (these messages reach logs).
        raise ImproperlyConfigured("DEBUG is off and weak secrets are refused: " + "; ".join(_weak))
    if is_development_pair(PDF_SIGNING_KEY, PDF_SIGNING_CERTIFICATE):
        # The text comparison above misses a re-encoded copy (other line endings, another PEM form).
        raise ImproperlyConfigured(
            "DEBUG is off and PDF_SIGNING_KEY / PDF_SIGNING_CERTIFICATE is the development pair "
            "(its key is public): give the platform's own document-signing key and certificate."
        )
    if SIGNING_PASSWORD_FALLBACK:
        raise ImproperlyConfigured(
            "DEBUG is off and SIGNING_PASSWORD_FALLBACK is set: every binding act is signed in production."
        )
    if CA_SIMULATOR:
        raise ImproperlyConfigured(
            "DEBUG is off and CA_SIMULATOR is on: the simulator is for development."
        )
    if EMAIL_SIMULATOR or EMAIL_BACKEND == EMAIL_SIMULATOR_BACKEND:
        raise ImproperlyConfigured(
            "DEBUG is off and the email simulator is on (EMAIL_SIMULATOR / EMAIL_BACKEND): it is for "
            "development; configure SMTP."
        )
    if SMS_SIMULATOR:
        raise ImproperlyConfigured(
            "DEBUG is off and SMS_SIMULATOR is on: the simulator is for development."
        )
    if SMS_PROVIDER_URL and secret_weakness(SMS_PROVIDER_KEY, min_length=32):
        raise ImproperlyConfigured(
            "DEBUG is off and SMS_PROVIDER_KEY "
            + str(secret_weakness(SMS_PROVIDER_KEY, min_length=32))
        )
    if "*" in ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "DEBUG is off and ALLOWED_HOSTS contains '*': name the site's host names."
        )

"""bidhall settings: one module, driven by the environment.

Embedded default (a fresh checkout): SQLite in WAL mode with IMMEDIATE transactions and the in-memory
channel layer. Production: DATABASE_URL=postgres://… and REDIS_URL=redis://… with DEBUG off.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from lib.env import envbool, envint, envlist, envsecret, envstr, secrets_left_at_dev_default

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = envbool("DEBUG", True)
SECRET_KEY = envsecret("SECRET_KEY", "dev-only-insecure-secret-key-change-me-bidhall")
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
    "channels",
    "audit",
    "accounts",
    "clock",
    "trading",
    "deposits",
    "experts",
    "bidding",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Refuses NUL, control characters and lone surrogates in the path, query, cookies and form/JSON
    # bodies before anything reads them; after the locale so the refusal is in the reader's language.
    "lib.edge.EdgeMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG

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
# Largest file a user may upload (tender documents, bid files), in bytes.
MAX_UPLOAD_BYTES = envint("MAX_UPLOAD_BYTES", 200 * 1024 * 1024)
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
}

# --- Platform rules that are operator settings ----------------------------------------------------
# Deposit custody: one HMAC secret per bank, "BANK:secret,BANK2:secret2" (or DEPOSIT_BANK_SECRETS_FILE).
DEPOSIT_BANK_SECRETS = dict(
    pair.split(":", 1)
    for pair in envsecret("DEPOSIT_BANK_SECRETS", "ICBC:dev-icbc-secret,CCB:dev-ccb-secret").split(
        ","
    )
    if ":" in pair
)
# The bank that keeps the custody account; the demo's simulator signs as this bank.
DEPOSIT_CUSTODY_BANK = envstr("DEPOSIT_CUSTODY_BANK", "ICBC")
# The bank simulator page signs with the real bank secrets: demo and development only.
DEPOSIT_BANK_SIMULATOR = envbool("DEPOSIT_BANK_SIMULATOR", DEBUG)
# Prefix of the virtual sub-account numbers handed to bidders (agreed with the custody bank).
DEPOSIT_ACCOUNT_PREFIX = envstr("DEPOSIT_ACCOUNT_PREFIX", "6222")
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
# on the supervision pages; `verify_evidence` checks packages against it offline.
EVIDENCE_SIGNING_KEY = envsecret(
    "EVIDENCE_SIGNING_KEY", "6465762d6f6e6c792d65766964656e63652d7369676e696e672d6b6579212121"
)
# How long a clock process may hold a claimed task before another process may take it over.
CLOCK_LEASE_SECONDS = envint("CLOCK_LEASE_SECONDS", 60)
CLOCK_POLL_SECONDS = float(envstr("CLOCK_POLL_SECONDS", "1.0"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {"daphne": {"level": "WARNING"}, "django.channels.server": {"level": "WARNING"}},
}

if not DEBUG:
    _left = secrets_left_at_dev_default()
    if _left:
        raise ImproperlyConfigured(
            "DEBUG is off but these secrets still have their development defaults: "
            + ", ".join(_left)
            + ". Set them in the environment (or NAME_FILE)."
        )
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

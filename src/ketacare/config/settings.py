"""Django settings for KetaCare, read from the environment.

One base for every environment. Production differs only by what the environment
says (`KETACARE_ENV=production`, `DJANGO_SECRET_KEY`, `DATABASE_URL`, `ALLOWED_HOSTS`).
"""

import os
from pathlib import Path

import dj_database_url

PACKAGE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("KETACARE_DATA_DIR", Path.cwd() / "var")).resolve()

ENVIRONMENT = os.environ.get("KETACARE_ENV", "development")
PRODUCTION = ENVIRONMENT == "production"

if PRODUCTION:
    SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
else:
    # A fixed key is only acceptable off production, where no real patient data lives.
    SECRET_KEY = os.environ.get(
        "DJANGO_SECRET_KEY", "ketacare-development-only-key-never-use-in-production-0123456789"
    )

DEBUG = os.environ.get("DJANGO_DEBUG", "0" if PRODUCTION else "1") == "1"
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",  # its vendored Swagger UI files, so the API docs load nothing from a CDN
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_tasks",
    "django_tasks_db",
    "ketacare.accounts",
    "ketacare.audit",
    "ketacare.patients",
    "ketacare.screening",
    "ketacare.consent",
    "ketacare.scheduling",
    "ketacare.ledger",
    "ketacare.rems",
    "ketacare.athome",
    "ketacare.treatment",
    "ketacare.outcomes",
    "ketacare.followup",
    "ketacare.fhir",
    "ketacare.portability",
    "ketacare.home",
    "ketacare.web",
    "ketacare.synth",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "ketacare.web.security.SecurityHeadersMiddleware",
    "ketacare.web.security.InputGateMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "ketacare.accounts.middleware.IdleTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "ketacare.accounts.middleware.ActiveClinicMiddleware",
    "ketacare.home.mfa.SecondFactorMiddleware",
    # A signing form's password or PIN stamps the actor for this request only.
    "ketacare.home.signing.SigningReauthMiddleware",
    # After the actor is known: refused attempts go on the acting clinic's trail.
    "ketacare.audit.denials.DenialAuditMiddleware",
    # Axes goes last so it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ketacare.config.urls"
WSGI_APPLICATION = "ketacare.config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ketacare.accounts.context_processors.active_clinic",
            ],
        },
    },
]


def _database_from_environment() -> dict[str, object]:
    """PostgreSQL when DATABASE_URL is set, else SQLite under the data directory."""
    url = os.environ.get("DATABASE_URL")
    if url:
        config: dict[str, object] = dict(dj_database_url.parse(url, conn_max_age=60))
        test_name = os.environ.get("KETACARE_TEST_DATABASE_NAME")
        if test_name:
            config["TEST"] = {"NAME": test_name}
        return config
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "ketacare.sqlite3",
        "OPTIONS": {
            # WAL lets readers work while one writer commits; synchronous=FULL makes an
            # acknowledged commit durable across a power cut, not just a process crash.
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
            ),
            # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of
            # one failing with "database is locked" half-way through a transaction.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
    }


DATABASES = {"default": _database_from_environment()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Idle timeout: `IdleTimeoutMiddleware` signs the user out this long after their last own
# request (background polls do not count). The cookie's age is an absolute cap of one shift.
KETACARE_IDLE_TIMEOUT_SECONDS = int(os.environ.get("KETACARE_IDLE_TIMEOUT_MINUTES", "15")) * 60
# `make bench` mounts a bare page (/bench/floor/<patient>/) to measure the fixed cost of a request.
KETACARE_BENCH_FLOOR = os.environ.get("KETACARE_BENCH_FLOOR", "0") == "1" and not PRODUCTION
SESSION_COOKIE_AGE = 12 * 60 * 60
# Saved when changed (sign-in, clinic switch, the idle clock every 15 s), not on every request.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie

# Second factor (django-otp): the issuer shown in authenticator apps.
OTP_TOTP_ISSUER = os.environ.get("KETACARE_TOTP_ISSUER", "KetaCare")

# django-axes: lock the username/address pair after repeated failures.
AXES_FAILURE_LIMIT = int(os.environ.get("KETACARE_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours: 15 minutes
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Locked sign-ins answer 429 and are written to the audit trail.
AXES_LOCKOUT_CALLABLE = "ketacare.home.mfa_views.locked_out"
AXES_VERBOSE = False
# The same client address as the audit trail and the portal limit (trusted proxies only).
AXES_CLIENT_IP_CALLABLE = "ketacare.accounts.access.axes_client_address"

# Reverse proxies whose X-Forwarded-For is believed (addresses or networks, comma-separated,
# e.g. "127.0.0.1,10.0.0.0/24"). Empty: the peer address is the client, whatever the header says.
KETACARE_TRUSTED_PROXIES = [
    item.strip()
    for item in os.environ.get("KETACARE_TRUSTED_PROXIES", "").split(",")
    if item.strip()
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("KETACARE_TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Off production the app serves its own static files even with DEBUG off (the demo runs so,
# to show plain error pages); production collects them (`collectstatic`).
WHITENOISE_USE_FINDERS = not PRODUCTION
STATIC_ROOT = Path(os.environ.get("KETACARE_STATIC_ROOT", DATA_DIR / "static"))
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing root
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# API requests larger than this are refused with 413 before parsing.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

EMAIL_BACKEND = os.environ.get(
    "KETACARE_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("KETACARE_FROM_EMAIL", "no-reply@ketacare.invalid")
# Questionnaire invitations are sent inside the transaction that claims them; a hanging mail
# server must not hold that transaction open for long.
EMAIL_TIMEOUT = int(os.environ.get("KETACARE_EMAIL_TIMEOUT_SECONDS", "10"))
# Where patients and staff reach this server: links in emails (the patient portal) start here.
KETACARE_PUBLIC_URL = os.environ.get("KETACARE_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")


def _chain_key() -> bytes:
    """The audit/ledger chain key: from a file or the environment, never from the database."""
    key_file = os.environ.get("KETACARE_CHAIN_KEY_FILE", "")
    key = (
        Path(key_file).read_bytes().strip()
        if key_file
        else os.environ.get("KETACARE_CHAIN_KEY", "").encode()
    )
    if PRODUCTION and len(key) < 32:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            "Production needs KETACARE_CHAIN_KEY or KETACARE_CHAIN_KEY_FILE: at least 32 random "
            "bytes, kept outside the database (see docs/security.md)."
        )
    # The demo key is public: chains signed with it prove nothing beyond accidental damage.
    return key or b"ketacare-demo-chain-key-public-never-use-with-patient-data"


KETACARE_CHAIN_KEY = _chain_key()
# Signed checkpoints of every chain head, appended outside the database; ship this file off
# the host (it only grows). Written at most once per interval per process after an append.
KETACARE_CHECKPOINT_FILE = Path(
    os.environ.get("KETACARE_CHECKPOINT_FILE", DATA_DIR / "chain-checkpoints.jsonl")
)
KETACARE_CHECKPOINT_INTERVAL_SECONDS = int(
    os.environ.get("KETACARE_CHECKPOINT_INTERVAL_SECONDS", "60")
)

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = os.environ.get("KETACARE_SSL_REDIRECT", "1") == "1"
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("KETACARE_LOG_LEVEL", "WARNING")},
}

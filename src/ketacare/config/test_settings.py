"""Test settings: the base settings with a faster password hasher.

Argon2 stays in the list (second), so stored hashes from demo data still verify,
and a test asserts the base settings use Argon2 first.
"""

import tempfile
from pathlib import Path

from ketacare.config.settings import *  # noqa: F403
from ketacare.config.settings import PASSWORD_HASHERS as BASE_PASSWORD_HASHERS

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *BASE_PASSWORD_HASHERS]  # noqa: S303

# SQLite tests use a file, not memory: threads then share one database through separate
# connections, as the app's processes do, so concurrency tests run on both backends.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-ketacare.sqlite3")}  # noqa: F405

# Each test's database is thrown away, so automatic checkpoints would outlive their chains;
# tests that need checkpoints write them explicitly to their own file.
KETACARE_CHECKPOINT_INTERVAL_SECONDS = 0
KETACARE_CHECKPOINT_FILE = Path(tempfile.mkdtemp(prefix="ketacare-test-")) / "checkpoints.jsonl"

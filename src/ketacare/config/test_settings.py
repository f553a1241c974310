"""Test settings: the base settings with a faster password hasher.

Argon2 stays in the list (second), so stored hashes from demo data still verify,
and a test asserts the base settings use Argon2 first.
"""

from ketacare.config.settings import *  # noqa: F403
from ketacare.config.settings import PASSWORD_HASHERS as BASE_PASSWORD_HASHERS

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *BASE_PASSWORD_HASHERS]  # noqa: S303

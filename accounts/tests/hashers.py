"""A cheap Argon2id for tests that hash or check passwords many times."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class CheapArgon2PasswordHasher(Argon2PasswordHasher):
    """Real argon2id (same algorithm name and format), with minimal work factors."""

    time_cost = 1
    memory_cost = 64
    parallelism = 1

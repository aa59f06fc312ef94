import factory
from django.contrib.auth.hashers import get_hasher, make_password
from django.utils.timezone import now

from accounts.models import User

DEFAULT_PASSWORD = "correct-Horse-battery-9"
_HASHES: dict[type, str] = {}


def default_password_hash() -> str:
    """DEFAULT_PASSWORD hashed once per default hasher; Argon2 is deliberately slow."""
    hasher = get_hasher("default")
    if type(hasher) not in _HASHES:
        _HASHES[type(hasher)] = make_password(DEFAULT_PASSWORD, hasher=hasher)
    return _HASHES[type(hasher)]


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    class Params:
        unverified = factory.Trait(email_verified_at=None)
        deleted = factory.Trait(is_active=False, deleted_at=factory.LazyFunction(now))

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    timezone = "Europe/Paris"
    password = factory.LazyFunction(default_password_hash)
    email_verified_at = factory.LazyFunction(now)


class DermatologistUserFactory(UserFactory):
    role = User.Role.DERMATOLOGIST

import factory
from django.contrib.auth.hashers import make_password
from django.utils.timezone import now

from accounts.models import User

DEFAULT_PASSWORD = "correct-Horse-battery-9"
# Hashing once keeps factories fast; Argon2 is deliberately slow.
_DEFAULT_PASSWORD_HASH = make_password(DEFAULT_PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    timezone = "Europe/Paris"
    password = _DEFAULT_PASSWORD_HASH
    email_verified_at = factory.LazyFunction(now)


class DermatologistUserFactory(UserFactory):
    role = User.Role.DERMATOLOGIST

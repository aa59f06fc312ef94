import uuid
from zoneinfo import ZoneInfo

from django.contrib.auth.models import (
    AbstractBaseUser,
    BaseUserManager,
    PermissionsMixin,
)
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone as django_timezone

from accounts.validators import validate_timezone


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        from accounts.signin import normalise_email  # signin imports this module

        return normalise_email(email or "")

    def _create_user(self, email: str, password: str | None, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email: str, password: str | None = None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        extra_fields.setdefault("email_verified_at", django_timezone.now())
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an e-mail address: patient, dermatologist or staff."""

    class Role(models.TextChoices):
        PATIENT = "patient", "Patient"
        DERMATOLOGIST = "dermatologist", "Dermatologist"

    class SkinType(models.TextChoices):
        OILY = "oily", "Oily"
        DRY = "dry", "Dry"
        COMBINATION = "combination", "Combination"
        NORMAL = "normal", "Normal"
        UNSURE = "unsure", "Not sure"

    class Language(models.TextChoices):
        ENGLISH = "en", "English"
        FRENCH = "fr", "Français"
        GERMAN = "de", "Deutsch"
        SPANISH = "es", "Español"
        PORTUGUESE = "pt", "Português"
        ITALIAN = "it", "Italiano"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField("e-mail address", max_length=254, unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    timezone = models.CharField(
        max_length=64, default="UTC", validators=[validate_timezone]
    )
    language = models.CharField(
        max_length=16, choices=Language.choices, default=Language.ENGLISH
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.PATIENT)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=django_timezone.now)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Set once the account's personal data has been erased after the retention period.
    purged_at = models.DateTimeField(null=True, blank=True)
    # A new address waiting for its verification token; the e-mail changes on confirm.
    pending_email = models.EmailField(max_length=254, blank=True)
    # Sign-in lockout lives in the database so that it survives cache flushes.
    failed_sign_ins = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)

    declared_skin_type = models.CharField(
        max_length=16, choices=SkinType.choices, blank=True
    )
    concerns = models.JSONField(default=list, blank=True)
    sensitivities = models.JSONField(default=list, blank=True)
    fitzpatrick_type = models.PositiveSmallIntegerField(null=True, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    pregnant_or_breastfeeding = models.BooleanField(default=False)

    consent_photo_analysis_at = models.DateTimeField(null=True, blank=True)
    consent_share_with_dermatologists_at = models.DateTimeField(null=True, blank=True)
    consent_marketing_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
            models.CheckConstraint(
                condition=models.Q(fitzpatrick_type__isnull=True)
                | models.Q(fitzpatrick_type__gte=1, fitzpatrick_type__lte=6),
                name="user_fitzpatrick_1_to_6",
            ),
            models.CheckConstraint(
                condition=models.Q(deleted_at__isnull=True) | models.Q(is_active=False),
                name="user_deleted_is_inactive",
            ),
            models.CheckConstraint(
                condition=models.Q(purged_at__isnull=True)
                | models.Q(deleted_at__isnull=False),
                name="user_purged_was_deleted",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self):
        super().clean()
        self.email = UserManager.normalize_email(self.email)

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.email

    @property
    def zoneinfo(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_purged(self) -> bool:
        return self.purged_at is not None

    def is_locked(self, *, now=None) -> bool:
        now = now or django_timezone.now()
        return self.locked_until is not None and self.locked_until > now

    @property
    def consent_photo_analysis(self) -> bool:
        return self.consent_photo_analysis_at is not None

    @property
    def consent_share_with_dermatologists(self) -> bool:
        return self.consent_share_with_dermatologists_at is not None

    @property
    def consent_marketing(self) -> bool:
        return self.consent_marketing_at is not None

    @property
    def is_dermatologist(self) -> bool:
        return self.role == self.Role.DERMATOLOGIST


class RefreshTokenRecord(models.Model):
    """The family of one issued refresh token, and whether it was rotated or revoked.

    A family is the chain of refresh tokens descended from one sign-in (the ``fam``
    claim). Only its newest token may be exchanged; presenting a rotated one is
    treated as theft and revokes the family (accounts/refresh.py).
    """

    # CASCADE: simplejwt's flushexpiredtokens and account erasure delete these too.
    outstanding = models.OneToOneField(
        "token_blacklist.OutstandingToken",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="family_record",
    )
    family = models.UUIDField(db_index=True)
    rotated_at = models.DateTimeField(null=True, blank=True)
    # Set on every token of the family when a rotated token is presented again.
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"refresh token {self.outstanding_id} of family {self.family}"

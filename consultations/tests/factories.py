from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import factory
from django.core.files.base import ContentFile
from django.utils.timezone import now

from accounts.tests.factories import DermatologistUserFactory, UserFactory
from analysis.models import Analysis
from consultations.models import (
    Consultation,
    ConsultationType,
    Dermatologist,
    SharedAnalysis,
    SharedAnalysisAccess,
    WeeklyHours,
)

PARIS = ZoneInfo("Europe/Paris")
# The smallest valid JPEG is enough: the page serves bytes, it does not decode them.
JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909"
    "080a0c140d0c0b0b0c1912130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30"
    "313434341f27393d38323c2e333432ffc0000b080001000101011100ffc4001f0000010501"
    "010101010100000000000000000102030405060708090a0bffc400b5100002010303020403"
    "050504040000017d01020300041105122131410613516107227114328191a1082342b1c115"
    "52d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a53"
    "5455565758595a636465666768696a737475767778797a838485868788898a929394959697"
    "98999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8"
    "d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffda0008010100003f00fbd3ffd9"
)


def next_weekday(weekday: int = 0, *, weeks_ahead: int = 2) -> date:
    """A date on `weekday` (0 = Monday) at least `weeks_ahead` weeks from today."""
    today = now().astimezone(PARIS).date()
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=weeks_ahead)
    return monday + timedelta(days=weekday)


def paris(day: date, hour: int, minute: int = 0) -> datetime:
    """An aware instant at a Paris wall-clock time, as UTC."""
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS).astimezone(UTC)


class DermatologistFactory(factory.django.DjangoModelFactory):
    """Verified, in Paris: weekdays 09-12 and 13-17; video 30 min, in person 45."""

    class Meta:
        model = Dermatologist
        skip_postgeneration_save = True

    user = factory.SubFactory(DermatologistUserFactory)
    credentials = "MD"
    licence_number = factory.Sequence(lambda n: f"LIC-{n:06d}")
    bio = "Dermatologist."
    timezone = "Europe/Paris"
    buffer_minutes = 0
    minimum_notice_hours = 1
    horizon_days = 60
    verified_at = factory.LazyFunction(now)

    @factory.post_generation
    def hours(self, create, extracted, **kwargs):
        if not create:
            return
        ranges = (
            extracted
            if extracted is not None
            else [
                (day, start, end)
                for day in range(5)
                for start, end in ((time(9), time(12)), (time(13), time(17)))
            ]
        )
        WeeklyHours.objects.bulk_create(
            WeeklyHours(dermatologist=self, weekday=d, start=s, end=e)
            for d, s, e in ranges
        )

    @factory.post_generation
    def types(self, create, extracted, **kwargs):
        if not create:
            return
        for kind, minutes, fee in extracted or [
            ("video", 30, "60.00"),
            ("in_person", 45, "90.00"),
        ]:
            ConsultationType.objects.create(
                dermatologist=self,
                kind=kind,
                duration_minutes=minutes,
                fee=Decimal(fee),
                currency="EUR",
            )


class ConsentingPatientFactory(UserFactory):
    """A patient who agreed to photo analysis and to sharing with dermatologists."""

    consent_photo_analysis_at = factory.LazyFunction(now)
    consent_share_with_dermatologists_at = factory.LazyFunction(now)


class ConsultationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consultation

    patient = factory.SubFactory(ConsentingPatientFactory)
    dermatologist = factory.SubFactory(DermatologistFactory)
    kind = "video"
    start = factory.LazyFunction(lambda: paris(next_weekday(1), 9))
    end = factory.LazyAttribute(lambda o: o.start + timedelta(minutes=30))
    fee = Decimal("60.00")
    currency = "EUR"
    status = Consultation.Status.REQUESTED
    reason = "Persistent acne on the chin."


class AnalysisFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Analysis

    user = factory.SubFactory(UserFactory)
    status = Analysis.Status.COMPLETED
    answers = factory.LazyFunction(lambda: {"oiliness": "often"})
    skin_type = "oily"
    scores = factory.LazyFunction(lambda: {"acne": 42, "redness": 17})
    completed_at = factory.LazyFunction(now)

    class Params:
        with_photo = factory.Trait(
            photo=factory.LazyFunction(lambda: ContentFile(JPEG, name="face.jpg"))
        )


class SharedAnalysisFactory(factory.django.DjangoModelFactory):
    """A photo analysis of the consultation's patient, shared in that consultation."""

    class Meta:
        model = SharedAnalysis

    consultation = factory.SubFactory(ConsultationFactory)
    analysis = factory.SubFactory(
        AnalysisFactory,
        user=factory.SelfAttribute("..consultation.patient"),
        with_photo=True,
    )
    consent_given_at = factory.LazyFunction(now)


class SharedAnalysisAccessFactory(factory.django.DjangoModelFactory):
    """A dermatologist's look at a shared analysis (the consultation's own one)."""

    class Meta:
        model = SharedAnalysisAccess

    consultation = factory.SubFactory(ConsultationFactory)
    analysis = factory.SubFactory(
        AnalysisFactory, user=factory.SelfAttribute("..consultation.patient")
    )
    accessed_by = factory.SelfAttribute("consultation.dermatologist.user")
    kind = SharedAnalysisAccess.Kind.PHOTO
    accessed_at = factory.LazyFunction(now)

import secrets

import factory

from accounts.tests.factories import UserFactory
from push.models import Device


def fcm_token() -> str:
    return f"{secrets.token_urlsafe(11)}:APA91b{secrets.token_urlsafe(100)}"


def apns_token() -> str:
    return secrets.token_hex(32)


class DeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Device

    class Params:
        ios = factory.Trait(
            platform=Device.Platform.IOS, token=factory.LazyFunction(apns_token)
        )

    user = factory.SubFactory(UserFactory)
    platform = Device.Platform.ANDROID
    token = factory.LazyFunction(fcm_token)
    app_version = "1.4.0"
    locale = "en-GB"

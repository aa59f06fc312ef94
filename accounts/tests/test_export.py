import importlib
import json

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.tests.factories import UserFactory
from accounts.tests.helpers import EXPORT_URL
from notifications.models import Preference
from notifications.tests.factories import NotificationFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

# Models that link to the user but are not exported, and why:
NOT_EXPORTED = {
    # Refresh tokens are credentials, not data about the person: exporting them would
    # put live sessions in a file; they expire, and erasure deletes them.
    "token_blacklist.OutstandingToken": "credentials",
    # The admin's audit trail: its user is the staff member who acted, not the
    # person the data is about.
    "admin.LogEntry": "staff audit trail",
}


def user_links(model) -> list[str]:
    """Names of the model's ForeignKey/OneToOne fields pointing at the user model."""
    user_model = get_user_model()
    return [
        field.name
        for field in model._meta.get_fields()
        if field.concrete
        and (field.many_to_one or field.one_to_one)
        and field.related_model is user_model
    ]


def models_about_users() -> list:
    return [
        model
        for model in apps.get_models()
        if user_links(model) and model._meta.label not in NOT_EXPORTED
    ]


def factory_for(model):
    """<app>.tests.factories.<Model>Factory if the owning app has one."""
    try:
        module = importlib.import_module(f"{model._meta.app_label}.tests.factories")
    except ModuleNotFoundError:
        return None
    return getattr(module, f"{model.__name__}Factory", None)


def make_row(model, user):
    """A row linked to the user: by the app's factory, else with field defaults.

    Returns None when neither works (required fields without defaults); the model
    is then only checked for being listed in the export.
    """
    links = {name: user for name in user_links(model)}
    factory = factory_for(model)
    if factory is not None:
        return factory(**links)
    try:
        with transaction.atomic():
            return model.objects.create(**links)
    except (IntegrityError, ValidationError, TypeError, ValueError):
        return None


def test_every_model_linked_to_a_user_is_exported_with_its_rows(client_for):
    # given: a user with a row in every such model we can create one in
    user = UserFactory()
    created = {}
    for model in models_about_users():
        row = make_row(model, user)
        if row is not None:
            created[model._meta.label] = str(row.pk)

    # when
    response = client_for(user).get(EXPORT_URL)

    # then: each such model is listed by its app, and the user's rows are in it
    assert response.status_code == 200
    data = response.json()["data"]
    for model in models_about_users():
        label = model._meta.label
        assert label in data, f"{label} links to the user but is not exported"
        if label in created:
            exported = [str(v) for row in data[label] for v in row.values()]
            assert created[label] in exported, f"{label} row missing from the export"


def test_the_excluded_models_still_exist():
    """The exclusions name real models, so a rename does not hide a new gap."""
    for label in NOT_EXPORTED:
        assert apps.get_model(label) is not None


def test_export_returns_the_profile_without_the_password(auth_client, user):
    response = auth_client.get(EXPORT_URL)

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment; filename=")
    body = response.json()
    assert body["user_id"] == str(user.pk)
    [row] = body["data"]["accounts.User"]
    assert row["email"] == user.email
    assert row["first_name"] == user.first_name
    assert "password" not in row
    assert user.password not in json.dumps(body)


def test_export_holds_the_notifications_and_preferences(auth_client, user):
    notification = NotificationFactory(recipient=user, title="Your routine")
    Preference.objects.create(user=user, channels={"welcome": {"email": False}})

    data = auth_client.get(EXPORT_URL).json()["data"]

    assert [n["id"] for n in data["notifications.Notification"]] == [
        str(notification.pk)
    ]
    assert data["notifications.Preference"][0]["channels"] == {
        "welcome": {"email": False}
    }


def test_export_leaves_out_codes_held_in_security_mail(auth_client, user):
    NotificationFactory(
        recipient=user,
        kind="password_reset",
        body="code: secret-token",
        data={"token": "secret-token"},
    )

    response = auth_client.get(EXPORT_URL)

    assert "secret-token" not in response.content.decode()


def test_export_has_nothing_of_other_users(auth_client, other_user):
    NotificationFactory(recipient=other_user, title="Not yours")

    response = auth_client.get(EXPORT_URL)

    assert other_user.email not in response.content.decode()
    assert "Not yours" not in response.content.decode()


def test_export_requires_authentication(api_client):
    assert api_client.get(EXPORT_URL).status_code == 401


def test_every_apps_export_rows_are_plain_json_before_rendering(user):
    """One helper builds every app's rows: no app leaves datetimes or UUIDs behind."""
    from accounts.lifecycle import build_user_export

    NotificationFactory(recipient=user)
    user.groups.create(name="beta testers")

    data = build_user_export(user=user)["data"]

    assert json.loads(json.dumps(data)) == data
    assert data["accounts.User"][0]["groups"] == ["beta testers"]

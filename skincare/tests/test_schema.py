"""The served OpenAPI document: the reviewed copy, valid, and fit for client generators.

CI also generates two clients from it (`.ci/clients`); the Python one is used against
a live server in test_generated_client.py.
"""

import difflib
import re
import zoneinfo
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.test import Client
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator
from openapi_spec_validator import validate

from accounts.models import User
from skincare.schema import EXAMPLES, _default_problem, walk

SCHEMA_URL = "/api/v1/schema/"
COMMITTED = Path(settings.BASE_DIR) / "docs" / "openapi.yaml"
MAIN_FLOWS = {"register", "sign_in", "create_analysis", "get_analysis"}
MAIN_FLOWS |= {"book_consultation"}
# Longer than this and a set of values is data (time zones, countries): validate it
# server-side and document it as a string, or generators make a type of it.
MAX_ENUM_MEMBERS = 100


@pytest.fixture(scope="module")
def served_text(django_db_blocker) -> str:
    with django_db_blocker.unblock():
        response = Client().get(SCHEMA_URL)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture(scope="module")
def served(served_text) -> dict:
    return yaml.safe_load(served_text)


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def resolve(schema, root):
    while "$ref" in schema:
        schema = root["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def validator(cls, schema, root):
    """A validator of `schema` whose `#/components/...` references resolve in root."""
    return cls({**schema, "components": root["components"]})


def test_served_schema_is_the_committed_copy(served_text):
    committed = COMMITTED.read_text() if COMMITTED.exists() else ""
    if served_text != committed:
        diff = "".join(
            list(
                difflib.unified_diff(
                    committed.splitlines(keepends=True),
                    served_text.splitlines(keepends=True),
                    "docs/openapi.yaml",
                    "served /api/v1/schema/",
                )
            )[:80]
        )
        pytest.fail(
            "The API changed: the served schema differs from docs/openapi.yaml. Run "
            "`make schema` to rewrite it, review `git diff docs/openapi.yaml`, and add "
            "a line to CHANGELOG.md saying what changed for app developers "
            "(README, 'API versioning': is it breaking?).\n" + diff,
            pytrace=False,
        )


def test_served_schema_passes_openapi_spec_validator(served):
    validate(served)


def test_every_operation_has_a_unique_readable_id_and_an_app_tag(served):
    ids = [operation["operationId"] for _, _, operation in operations(served)]
    described = {tag["name"] for tag in served["tags"]}

    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for method, path, operation in operations(served):
        assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", operation["operationId"])
        assert len(operation["tags"]) == 1, (method, path)
        assert set(operation["tags"]) <= described, (method, path)
    assert {"register", "sign_in", "create_analysis", "get_analysis"} <= set(ids)


def test_every_error_response_documents_the_error_shape(served):
    for method, path, operation in operations(served):
        codes = set(operation["responses"])
        assert {"401", "500"} & codes, (method, path)
        for code, response in operation["responses"].items():
            if code < "400":
                continue
            body = response.get("content", {}).get("application/json", {})
            assert "schema" in body, (method, path, code)
            variants = [resolve(body["schema"], served)]
            while any("oneOf" in v for v in variants):
                variants = [
                    resolve(choice, served)
                    for v in variants
                    for choice in v.get("oneOf", [v])
                ]
            for variant in variants:
                assert {"type", "errors"} <= set(variant["properties"]), (
                    method,
                    path,
                    code,
                )
                item = resolve(variant["properties"]["errors"]["items"], served)
                items = [resolve(c, served) for c in item.get("oneOf", [item])]
                for error in items:
                    assert {"code", "detail", "attr"} <= set(error["properties"])


def _identifier(value) -> str:
    """The member name a generator derives from an enum value (GMT+0 -> GMT_0)."""
    return re.sub(r"[^0-9A-Za-z]+", "_", str(value)).strip("_").upper() or "EMPTY"


def test_every_enum_has_few_members_with_distinct_identifiers(served):
    enums = [
        node["enum"] for node in walk(served) if isinstance(node.get("enum"), list)
    ]

    assert enums
    for values in enums:
        named = [_identifier(v) for v in values if v is not None]
        assert len(named) == len(set(named)), values
        assert len(values) <= MAX_ENUM_MEMBERS, values[:5]


def test_enums_are_named_after_their_owner(served):
    names = set(served["components"]["schemas"])

    assert {"ProductCategoryEnum", "RoutinePeriodEnum", "ConcernBandEnum"} <= names
    assert not {"CategoryEnum", "PeriodEnum", "BandEnum", "TimezoneEnum"} & names
    # drf-spectacular's answer to two enums wanting one name: a hash suffix
    hashed = [n for n in names if re.search(r"[0-9a-f]{3}Enum$", n)]
    assert not [n for n in hashed if not re.fullmatch(r"ErrorCode\d{3}Enum", n)]


def test_every_default_satisfies_its_own_schema(served):
    for node in walk(served):
        if "default" in node and ("type" in node or "enum" in node):
            assert _default_problem(node) is None, node
            assert validator(OAS30WriteValidator, node, served).is_valid(
                node["default"]
            ), node


def test_timezones_are_documented_strings_checked_against_iana(served):
    schemas = served["components"]["schemas"]
    for component in ("RegisterRequest", "PatchedProfileRequest", "Profile"):
        timezone = schemas[component]["properties"]["timezone"]
        assert timezone["type"] == "string"
        assert not {"enum", "$ref", "oneOf", "allOf"} & set(timezone)
        assert timezone["example"] in zoneinfo.available_timezones()
    register = schemas["RegisterRequest"]["properties"]
    assert "IANA" in register["timezone"]["description"]
    assert register["first_name"]["default"] == ""
    assert register["first_name"].get("minLength", 0) == 0


def test_main_flows_have_examples_that_match_their_schemas(served):
    by_id = {op["operationId"]: op for _, _, op in operations(served)}
    assert set(EXAMPLES) >= MAIN_FLOWS
    for operation_id in MAIN_FLOWS:
        operation = by_id[operation_id]
        bodies = []
        for media_type, body in (
            operation.get("requestBody", {}).get("content", {}).items()
        ):
            bodies.append(("request", media_type, body, OAS30WriteValidator))
        for code, response in operation["responses"].items():
            for media_type, body in response.get("content", {}).items():
                bodies.append((code, media_type, body, OAS30ReadValidator))
        for where, media_type, body, cls in bodies:
            examples = body.get("examples", {})
            if where == "request" or where.startswith("2"):
                assert examples, (operation_id, where, media_type)
            check = validator(cls, body["schema"], served)
            for name, example in examples.items():
                errors = [e.message for e in check.iter_errors(example["value"])]
                assert not errors, (operation_id, where, name, errors[:3])


def test_api_description_explains_errors_and_versioning(served):
    description = served["info"]["description"]

    for words in ("`code`", "`attr`", "Retry-After", "Deprecation", "Sunset", "/v2/"):
        assert words in description


# ------------------------------------------------------------------------------
# The time-zone field as the API applies it
# ------------------------------------------------------------------------------
@pytest.mark.django_db
def test_profile_refuses_a_non_iana_timezone_and_writes_nothing(auth_client, user):
    before = (user.timezone, user.first_name)

    response = auth_client.patch(
        "/api/v1/users/me/", {"timezone": "Europe/Atlantis", "first_name": "X"}
    )

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "code": "invalid_choice",
            "detail": '"Europe/Atlantis" is not an IANA time zone name such as '
            '"Europe/Paris".',
            "attr": "timezone",
        }
    ]
    user.refresh_from_db()
    assert (user.timezone, user.first_name) == before


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["America/New_York", "Etc/GMT+5", "UTC"])
def test_profile_accepts_iana_timezones(auth_client, user, name):
    response = auth_client.patch("/api/v1/users/me/", {"timezone": name})

    assert response.status_code == 200, response.json()
    user.refresh_from_db()
    assert user.timezone == name


@pytest.mark.django_db
def test_register_accepts_the_documented_blank_name_default(api_client):
    response = api_client.post(
        "/api/v1/auth/register/",
        {
            "email": "blank@example.com",
            "password": "a-Decent-passphrase-42",
            "first_name": "",
        },
    )

    assert response.status_code == 201, response.json()
    user = User.objects.get(email="blank@example.com")
    assert (user.first_name, user.last_name, user.timezone) == ("", "", "UTC")

"""The OpenAPI document as client generators read it: names, tags, errors, examples.

Everything that shapes the served schema for every app lives here, not on each view:
the `AutoSchema` (readable operation ids, one tag per app) and the postprocessing
hooks listed in `SPECTACULAR_SETTINGS` (discriminators generators accept, deprecated
operations, the error shape's description, examples of the main flows).
CI generates two clients from the served schema and fails on any warning
(`.ci/clients`); `docs/openapi.yaml` is the reviewed copy (`make schema` rewrites it).
"""

from __future__ import annotations

import re
from email.utils import format_datetime

from django.apps import apps
from drf_spectacular.drainage import warn

from skincare import api
from skincare.schema_examples import EXAMPLES
from skincare.versioning import deprecations

API_PREFIX = "/api/v1"

# Readable, stable operation ids: the generated clients' function names. An operation
# missing here keeps drf-spectacular's path-derived id (`<path>_<action>`); add it here
# when you add an endpoint. Renaming one is a breaking change for generated clients.
OPERATION_IDS: dict[tuple[str, str], str] = {
    # accounts
    ("POST", "/auth/register/"): "register",
    ("POST", "/auth/verify-email/"): "verify_email",
    ("POST", "/auth/verify-email/resend/"): "resend_verification_email",
    ("POST", "/auth/token/"): "sign_in",
    ("POST", "/auth/token/refresh/"): "refresh_token",
    ("POST", "/auth/logout/"): "sign_out",
    ("POST", "/auth/password/reset/"): "request_password_reset",
    ("POST", "/auth/password/reset/confirm/"): "confirm_password_reset",
    ("POST", "/auth/password/change/"): "change_password",
    ("GET", "/users/me/"): "get_profile",
    ("PATCH", "/users/me/"): "update_profile",
    ("DELETE", "/users/me/"): "delete_account",
    ("POST", "/users/me/email/"): "change_email",
    ("GET", "/users/me/export/"): "export_my_data",
    # analysis
    ("GET", "/analysis/questionnaire/"): "get_questionnaire",
    ("GET", "/analysis/photo-links/{token}/"): "open_photo_link",
    ("GET", "/analyses/"): "list_analyses",
    ("POST", "/analyses/"): "create_analysis",
    ("GET", "/analyses/{id}/"): "get_analysis",
    ("DELETE", "/analyses/{id}/"): "delete_analysis",
    ("GET", "/analyses/{id}/photo/"): "get_analysis_photo",
    ("GET", "/analyses/progress/"): "get_analysis_progress",
    # routines and the catalogue
    ("GET", "/products/"): "list_products",
    ("GET", "/products/{id}/"): "get_product",
    ("GET", "/ingredients/"): "list_ingredients",
    ("GET", "/ingredients/{id}/"): "get_ingredient",
    ("GET", "/routines/"): "list_routines",
    ("POST", "/routines/"): "create_routine",
    ("GET", "/routines/{id}/"): "get_routine",
    ("PUT", "/routines/{id}/"): "replace_routine",
    ("PATCH", "/routines/{id}/"): "update_routine",
    ("DELETE", "/routines/{id}/"): "delete_routine",
    ("POST", "/routines/generate/"): "generate_routines",
    ("GET", "/routines/{id}/check-ins/"): "list_check_ins",
    ("POST", "/routines/{id}/check-ins/"): "check_in",
    ("GET", "/routines/{id}/adherence/"): "get_routine_adherence",
    # notifications
    ("GET", "/notifications/"): "list_notifications",
    ("GET", "/notifications/{id}/"): "get_notification",
    ("POST", "/notifications/{id}/read/"): "mark_notification_read",
    ("POST", "/notifications/read-all/"): "mark_all_notifications_read",
    ("GET", "/notifications/unread-count/"): "get_unread_notification_count",
    ("GET", "/notifications/preferences/"): "get_notification_preferences",
    ("PATCH", "/notifications/preferences/"): "update_notification_preferences",
    # consultations
    ("GET", "/dermatologists/"): "list_dermatologists",
    ("GET", "/dermatologists/{id}/"): "get_dermatologist",
    ("GET", "/dermatologists/{id}/slots/"): "list_free_slots",
    ("GET", "/consultations/"): "list_consultations",
    ("POST", "/consultations/"): "book_consultation",
    ("GET", "/consultations/{id}/"): "get_consultation",
    ("POST", "/consultations/{id}/cancel/"): "cancel_consultation",
    ("POST", "/consultations/{id}/reschedule/"): "reschedule_consultation",
    ("POST", "/consultations/{id}/shares/revoke/"): "revoke_shared_analyses",
    ("GET", "/consultations/{id}/accesses/"): "list_shared_analysis_accesses",
    ("GET", "/consultations/{id}/calendar.ics"): "get_consultation_calendar",
    # push
    ("POST", "/devices/"): "register_device",
    ("DELETE", "/devices/{id}/"): "unregister_device",
}


def _relative_path(path: str) -> str:
    return path[len(API_PREFIX) :] if path.startswith(API_PREFIX) else path


class AutoSchema(api.AutoSchema):
    """The project's schema class: readable operation ids and one tag per app."""

    def get_operation_id(self) -> str:
        known = OPERATION_IDS.get((self.method, _relative_path(self.path)))
        return known or super().get_operation_id()

    def get_tags(self) -> list[str]:
        """The view's app: the generated clients group their functions by it.

        A view may still set its own with @extend_schema(tags=[...]): the routines
        app's public half is tagged `catalogue`.
        """
        app = apps.get_containing_app_config(type(self.view).__module__)
        return [app.label] if app is not None else super().get_tags()


# ------------------------------------------------------------------------------
# Postprocessing hooks (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"])
# ------------------------------------------------------------------------------
def walk(node):
    """Every dict inside a JSON-like tree, the tree's own root included."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _operations(result):
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def discriminators_with_string_values(result, generator, request, public):
    """Drop a discriminator that maps a non-string value (`attr: null`).

    drf-standardized-errors discriminates validation errors on `attr`, and an error
    not tied to a field has `attr: null`: OpenAPI mapping keys are strings, so
    generators refuse that document. The `oneOf` stays and is matched without it.
    """
    for node in walk(result):
        mapping = (node.get("discriminator") or {}).get("mapping") or {}
        if any(not isinstance(key, str) for key in mapping):
            del node["discriminator"]
    return result


def multipart_bodies_of_their_own(result, generator, request, public):
    """Give a multipart request body its own component when JSON shares the view.

    drf-spectacular documents every parser with one component; a client generator
    then cannot tell which encoding a call means (openapi-python-client sent the
    photo upload as JSON). The multipart body keeps every field as
    `<Name>Multipart`; the JSON body loses the binary fields JSON cannot carry.
    """
    components = result.get("components", {}).get("schemas", {})
    prefix = "#/components/schemas/"
    for item in result.get("paths", {}).values():
        for operation in item.values():
            content = (operation.get("requestBody") or {}).get("content", {})
            multipart = content.get("multipart/form-data", {}).get("schema", {})
            json_body = content.get("application/json", {}).get("schema", {})
            ref = multipart.get("$ref", "")
            if not ref or json_body.get("$ref") != ref:
                continue
            name = ref.removeprefix(prefix)
            original = components[name]
            multipart_name = name.removesuffix("Request") + "MultipartRequest"
            components[multipart_name] = original
            multipart["$ref"] = prefix + multipart_name
            json_only = {**original, "properties": {}}
            for field, spec in original.get("properties", {}).items():
                if spec.get("format") != "binary":
                    json_only["properties"][field] = spec
            json_only["required"] = [
                field
                for field in original.get("required", [])
                if field in json_only["properties"]
            ] or None
            if json_only["required"] is None:
                del json_only["required"]
            components[name] = json_only
    return result


# A code in backquotes, not a field named after "field" or "on" (`date`, `steps`).
ERROR_CODE = re.compile(r"(?<!field )(?<!on )`([a-z][a-z0-9]*(?:_[a-z0-9]+)*)`")


# What DRF itself answers with these statuses, whatever the view names.
DRF_CODES = {"403": ["permission_denied"], "404": ["not_found"]}


def _camel(operation_id: str) -> str:
    return "".join(part.capitalize() for part in operation_id.split("_"))


def error_bodies_for_described_errors(result, generator, request, public):
    """Give an error documented by its description alone the error shape as its body.

    Views document their own refusals as `409: OpenApiResponse(description=...)`
    naming the codes in backquotes (`slot_taken`); without a body a generated client
    cannot read the answer. The body is the one error shape; its `code` is one of the
    codes the description names, except on a 400, where field validation adds
    DRF's own codes (`required`, `invalid`, ...): there it is any string.
    """
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for _, _, operation in _operations(result):
        for status, response in operation.get("responses", {}).items():
            if status < "400" or response.get("content"):
                continue
            named = ERROR_CODE.findall(response.get("description", ""))
            codes = list(dict.fromkeys([*named, *DRF_CODES.get(status, [])]))
            name = f"{_camel(operation['operationId'])}Error{status}"
            types = ["validation_error", "client_error"] if status == "400" else None
            schemas[name] = {
                "type": "object",
                "description": f"The error shape, as answered with status {status}.",
                "properties": {
                    "type": {
                        "type": "string",
                        "enum": types
                        or (["server_error"] if status >= "500" else ["client_error"]),
                    },
                    "errors": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "code": {"type": "string", "enum": codes}
                                if codes and status != "400"
                                else {"type": "string"},
                                "detail": {"type": "string"},
                                "attr": {"type": "string", "nullable": True},
                            },
                            "required": ["code", "detail", "attr"],
                        },
                    },
                },
                "required": ["type", "errors"],
            }
            response["content"] = {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}
            }
    return result


def _default_problem(schema: dict) -> str | None:
    """Why the schema's default breaks the schema's own constraints, if it does."""
    value = schema["default"]
    if value is None:
        return None if schema.get("nullable") else "null default, not nullable"
    if "enum" in schema and value not in schema["enum"]:
        return f"default {value!r} not in its enum"
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            return f"default {value!r} shorter than minLength {schema['minLength']}"
        if len(value) > schema.get("maxLength", len(value)):
            return f"default {value!r} longer than maxLength {schema['maxLength']}"
        if "pattern" in schema and not re.search(schema["pattern"], value):
            return f"default {value!r} does not match its pattern"
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < schema.get("minimum", value):
            return f"default {value} below minimum {schema['minimum']}"
        if value > schema.get("maximum", value):
            return f"default {value} above maximum {schema['maximum']}"
    return None


def defaults_satisfy_their_schema(result, generator, request, public):
    """Warn (an error under `spectacular --fail-on-warn`) on a self-refuting default.

    A string field with `default=""` but not `allow_blank=True` documents
    `minLength: 1, default: ""`: validators and client generators refuse that.
    """
    for name, component in result.get("components", {}).get("schemas", {}).items():
        for field, schema in (component.get("properties") or {}).items():
            if isinstance(schema, dict) and "default" in schema:
                problem = _default_problem(schema)
                if problem:
                    warn(
                        f"{name}.{field}: {problem}; make the default valid (e.g. "
                        "allow_blank=True for default='')."
                    )
    return result


def sorted_components(result, generator, request, public):
    """Components in name order again after the hooks above added some."""
    for section, items in result.get("components", {}).items():
        result["components"][section] = dict(sorted(items.items()))
    return result


def main_flow_examples(result, generator, request, public):
    """Examples of the main flows (skincare/schema_examples.py) on their bodies."""
    by_id = {op["operationId"]: op for _, _, op in _operations(result)}
    for operation_id, examples in EXAMPLES.items():
        operation = by_id.get(operation_id)
        if operation is None:
            warn(f"schema_examples: no operation {operation_id!r}")
            continue
        for key, media_examples in examples.items():
            if key == "request":
                content = operation.get("requestBody", {}).get("content", {})
                pairs = media_examples.items()
            else:
                content = operation["responses"].get(key, {}).get("content", {})
                pairs = [("application/json", media_examples)]
            for media_type, named in pairs:
                if media_type not in content:
                    warn(f"schema_examples: {operation_id} has no {key} {media_type}")
                    continue
                content[media_type].setdefault("examples", {}).update(named)
    return result


API_DESCRIPTION = """\
REST API of the skincare platform for the mobile app.

**Authentication.** `POST /api/v1/auth/token/` with e-mail and password answers an
`access` and a `refresh` token; send `Authorization: Bearer <access>`. Refresh tokens
work once: `POST /api/v1/auth/token/refresh/` answers the next pair.

**Errors.** Every error, whatever its status (400, 401, 403, 404, 405, 406, 409, 413,
415, 422, 429, 500, 503), has one shape:

```json
{"type": "validation_error",
 "errors": [{"code": "invalid_choice", "detail": "...", "attr": "timezone"}]}
```

`type` is `validation_error` (400 with field errors), `client_error` or
`server_error`. Branch on `code`, which is stable; `detail` is English for people.
`attr` names the field of a validation error (`steps.2.product` inside lists,
`non_field_errors` for the body as a whole) and is null otherwise. Each operation
lists its status codes and their `code` values. 429 and 503 carry `Retry-After`
(seconds).

**Conventions.** Ids are UUIDs. Times are ISO 8601 with an offset, dates
`YYYY-MM-DD`, a user's `timezone` an IANA name (`Europe/Paris`). Lists are paginated
(`count`, `next`, `previous`, `results`; `?page=`, `?page_size=`).

**Versioning.** Everything under `/api/v1/` stays compatible: fields and operations
are added, never removed or changed in meaning. An operation scheduled to go is marked
`deprecated` here and answers `Deprecation` and `Sunset` headers (RFC 9745, RFC 8594)
for at least six months before its sunset; a breaking change gets `/api/v2/` beside
v1.
"""

TAG_DESCRIPTIONS = {
    "accounts": "Registration, sign-in and tokens, the profile, export and deletion.",
    "analysis": "Skin analyses of a photo and/or questionnaire, and their results.",
    "catalogue": "Products and ingredients (public).",
    "routines": "The user's routines, generated recommendations, check-ins.",
    "notifications": "The in-app feed and notification preferences.",
    "consultations": "Dermatologists, free slots and bookings.",
}


def describe_api(result, generator, request, public):
    """The API's description (auth, errors, versioning) and its tags, in order."""
    result["info"]["description"] = API_DESCRIPTION
    used = []
    for _, _, operation in _operations(result):
        used += [tag for tag in operation.get("tags", []) if tag not in used]
    order = list(TAG_DESCRIPTIONS)
    used.sort(key=lambda tag: (order.index(tag) if tag in order else len(order), tag))
    result["tags"] = [
        {"name": tag, "description": TAG_DESCRIPTIONS[tag]}
        if tag in TAG_DESCRIPTIONS
        else {"name": tag}
        for tag in used
    ]
    return result


DEPRECATION_HEADERS = {
    "Deprecation": {
        "schema": {"type": "string"},
        "description": "When the operation was deprecated, as `@<unix seconds>` "
        "(RFC 9745).",
    },
    "Sunset": {
        "schema": {"type": "string"},
        "description": "The HTTP date after which the operation may answer 410 or "
        "disappear (RFC 8594).",
    },
    "Link": {
        "schema": {"type": "string"},
        "description": 'Where the replacement is documented (`rel="deprecation"`).',
    },
}


def deprecated_operations(result, generator, request, public):
    """Mark the operations in settings.API_DEPRECATIONS deprecated, with headers."""
    for key, deprecation in deprecations().items():
        method, path = key
        operation = result.get("paths", {}).get(path, {}).get(method.lower())
        if operation is None:
            warn(f"API_DEPRECATIONS: no operation {method} {path} in the schema")
            continue
        operation["deprecated"] = True
        sunset = format_datetime(deprecation.sunset, usegmt=True)
        note = f"**Deprecated** since {deprecation.deprecated_at:%Y-%m-%d}; "
        note += f"sunset {sunset}."
        if deprecation.link:
            note += f" See {deprecation.link}."
        operation["description"] = f"{note}\n\n{operation.get('description', '')}"
        for code, response in operation.get("responses", {}).items():
            if code.startswith("2"):
                response.setdefault("headers", {}).update(DEPRECATION_HEADERS)
    return result

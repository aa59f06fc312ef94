"""OpenAPI: the answers every operation taking `Idempotency-Key` may give."""

from idempotency.api import HEADER, REPLAYED_HEADER

CODES = {
    "400": ["idempotency_key_invalid"],
    "409": ["idempotency_key_in_progress"],
    "422": ["idempotency_key_reused"],
}
DESCRIPTIONS = {
    "400": f"`idempotency_key_invalid`: `{HEADER}` is not 1-255 printable ASCII "
    "characters.",
    "409": "`idempotency_key_in_progress`: a request with this key is still running; "
    "retry after `Retry-After` seconds to get its answer.",
    "422": "`idempotency_key_reused`: the key was used in the last 24 hours for "
    "another request (method, path or body); nothing was done.",
}


def _error_schema(name: str, codes: list[str]) -> dict:
    return {
        "type": "object",
        "title": name,
        "properties": {
            "type": {"type": "string", "enum": ["client_error"]},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string", "enum": codes},
                        "detail": {"type": "string"},
                        "attr": {"type": "string", "nullable": True},
                    },
                    "required": ["code", "detail", "attr"],
                },
            },
        },
        "required": ["type", "errors"],
    }


def _takes_key(operation: dict) -> bool:
    return any(
        p.get("in") == "header" and p.get("name") == HEADER
        for p in operation.get("parameters", [])
    )


def _add_error(operation: dict, status: str, ref: dict) -> None:
    new = status not in operation["responses"]
    response = operation["responses"].setdefault(status, {"description": ""})
    description = response.get("description") or ""
    response["description"] = " ".join(
        filter(None, [description, DESCRIPTIONS[status]])
    )
    if "content" not in response:
        if new:  # a description alone documents the view's own codes: keep it so
            response["content"] = {"application/json": {"schema": ref}}
        return
    content = response["content"].get("application/json")
    if content is None:  # documented as something else: leave it alone
        return
    schema = content.get("schema", {})
    alternatives = schema.get("oneOf", [schema])
    if ref not in alternatives:
        content["schema"] = {"oneOf": [*alternatives, ref]}


def document_idempotency(result, generator, request, public):
    """Add the 400/409/422 answers and the replay header where the key is taken."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    refs = {}
    for status, codes in CODES.items():
        name = f"IdempotencyError{status}"
        schemas[name] = _error_schema(name, codes)
        refs[status] = {"$ref": f"#/components/schemas/{name}"}
    replayed = {
        "description": "`true` when this is the stored answer to an earlier request "
        "with the same key (absent otherwise).",
        "schema": {"type": "string", "enum": ["true"]},
    }
    for item in result.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict) or not _takes_key(operation):
                continue
            for status, ref in refs.items():
                _add_error(operation, status, ref)
            for status, response in operation["responses"].items():
                if status.startswith("2"):
                    response.setdefault("headers", {})[REPLAYED_HEADER] = replayed
    return result

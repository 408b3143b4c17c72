"""Document the error shape and every error code in the OpenAPI document."""

from .codes import ERROR_SPECS


def document_errors(result, generator, request, public):
    rows = "\n".join(
        f"| `{code}` | {spec.status} | `{spec.type}` | {spec.description} |"
        for code, spec in ERROR_SPECS.items()
    )
    result["info"]["description"] += (
        "\n\n## Errors\n\nEvery error response has one shape: "
        '`{"error": {"type", "code", "message", "param"}}`. '
        "`param` names the offending request field, or is null.\n\n"
        "| code | status | type | meaning |\n|---|---|---|---|\n" + rows
    )
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["type", "code", "message", "param"],
                "properties": {
                    "type": {"type": "string"},
                    "code": {"type": "string", "enum": [str(code) for code in ERROR_SPECS]},
                    "message": {"type": "string"},
                    "param": {"type": "string", "nullable": True},
                },
            }
        },
    }
    _document_common_errors(result)
    return result


# Answers any operation may give, whatever its view says: described once here so
# that every operation documents them (clients and schema checkers rely on it).
COMMON_ERRORS = {
    "400": "Invalid request: a parameter is missing or invalid (`invalid_request`, `malformed_json`).",
    "404": "No such object (`not_found`), objects of other merchants included.",
    "406": "The API only answers `application/json` (`not_acceptable`).",
    "414": "The URL is longer than 8 KiB (`uri_too_long`).",
    "503": "A dependency is unavailable; nothing was changed (`service_unavailable`). Retry.",
}
AUTHENTICATED_ERRORS = {
    "401": "No API key, or an unknown or revoked one (`authentication_required`, `invalid_api_key`).",
    "429": "The key's rate limit is spent (`rate_limited`); retry after `Retry-After` seconds.",
}
BODY_ERRORS = {
    "413": "The request body is too large (`request_too_large`).",
    "415": "Send request bodies as `application/json` (`unsupported_media_type`).",
}


def _document_common_errors(result) -> None:
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            codes = dict(COMMON_ERRORS)
            if operation.get("security"):
                codes |= AUTHENTICATED_ERRORS
            if "requestBody" in operation:
                codes |= BODY_ERRORS
            for status, description in codes.items():
                operation["responses"].setdefault(status, {"description": description, "content": error})

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
    return result

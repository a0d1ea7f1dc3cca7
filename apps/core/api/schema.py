"""drf-spectacular post-processing: the error shape on every operation, and request bodies
that accept no extra properties."""

from typing import Any

ERROR_REF = {"$ref": "#/components/schemas/Error"}


def forbid_additional_properties(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    schemas = result.get("components", {}).get("schemas", {})
    for name, component in schemas.items():
        # COMPONENT_SPLIT_REQUEST names request bodies "<Name>Request"; every one of them
        # comes from a StrictSerializer, which refuses unknown fields.
        if name.endswith("Request") and component.get("type") == "object":
            component["additionalProperties"] = False
    return result


def error_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Every non-2xx answer has the one error body: document it on every operation,
    both for the codes a view names and as the ``default`` for the rest (401 on an
    expired token, 400 on a bad query parameter, 429, 500...)."""
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for code, response in responses.items():
                if not code.startswith("2") and "content" not in response:
                    response["content"] = {"application/json": {"schema": ERROR_REF}}
            responses.setdefault(
                "default",
                {
                    "description": "Error",
                    "content": {"application/json": {"schema": ERROR_REF}},
                },
            )
    return result

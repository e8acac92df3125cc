"""The OpenAPI schema's shared parts (REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]).

Kept apart from lib.api: drf-spectacular's AutoSchema imports DRF's generic views, which read the
pagination setting (lib.api.Pagination) while they are defined.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from lib.api import MAX_PAGE_SIZE, PAGES, ErrorSerializer

# Every error any operation can answer, whatever the view: the edge refuses unsafe text and
# malformed bodies (400), authentication and permission (401/403), unknown objects and paths (404),
# state conflicts (409), throttling (429). Operations with a body can also be too large (413) or of
# a type they do not take (415).
_ERRORS = {
    "400": "VALIDATION_ERROR, TEXT_INVALID_CHAR, MALFORMED_REQUEST, INVALID_PARAMETER or a rule's code",
    "401": "AUTHENTICATION_FAILED or a bank SIGNATURE_INVALID",
    "403": "NOT_AUTHENTICATED, FORBIDDEN or CSRF_FAILED",
    "404": "NOT_FOUND: no such object, or not one the caller may see",
    "409": "the object's state does not allow it now (CONFLICT or a rule's code)",
    "429": "THROTTLED",
}
_BODY_ERRORS = {
    "413": "PAYLOAD_TOO_LARGE",
    "415": "UNSUPPORTED_MEDIA_TYPE",
}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema plus what every operation shares (see `_ERRORS`), so a client and
    schemathesis can rely on: any status the API answers is documented, in the error shape."""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation["responses"]
        errors = dict(_ERRORS)
        if "requestBody" in operation:
            errors |= _BODY_ERRORS
        for code, description in errors.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=description), code
                )
        return operation

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if self.method == "GET" and self._answers_a_page():
            parameters += [
                OpenApiParameter(
                    "limit",
                    {"type": "integer", "minimum": 1},
                    description=f"items per page (default 50; more than {MAX_PAGE_SIZE} gives "
                    f"{MAX_PAGE_SIZE})",
                ),
                OpenApiParameter(
                    "offset", {"type": "integer", "minimum": 0}, description="items to skip"
                ),
            ]
        return parameters

    def _answers_a_page(self) -> bool:
        responses = self.get_response_serializers()
        ok = (responses.get(200) or responses.get("200")) if isinstance(responses, dict) else None
        return any(ok is page for page in PAGES.values())

    def _map_basic_serializer(self, serializer: Any, direction: str) -> dict[str, Any]:
        """A serializer whose `Meta.sometimes_absent` names fields that only some callers get (a
        supervisor's extra column, say) documents them as optional rather than required; one whose
        `Meta.closed` is true refuses keys it does not declare, and says so
        (`additionalProperties: false`)."""
        schema: dict[str, Any] = super()._map_basic_serializer(serializer, direction)
        meta = getattr(serializer, "Meta", None)
        if getattr(meta, "closed", False):
            schema["additionalProperties"] = False
        absent = set(getattr(meta, "sometimes_absent", ()))
        if absent and "required" in schema:
            schema["required"] = [name for name in schema["required"] if name not in absent]
            if not schema["required"]:
                del schema["required"]
        return schema

"""The chain's public API: its head and the published head history (`/api/v1/audit/head/`, `heads/`).
The audit search is `supervision.api.events`."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from audit.services import (
    PUBLISHED_PAGE,
    before_seq_param,
    chain_state,
    published_heads,
)


class ChainHeadSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    hash = serializers.CharField()
    last_verified_at = serializers.DateTimeField(allow_null=True)
    last_verified_seq = serializers.IntegerField(allow_null=True)
    last_verification_ok = serializers.BooleanField(allow_null=True)


@extend_schema(responses=ChainHeadSerializer)
@api_view(["GET"])
@permission_classes([AllowAny])
def head(request: Request) -> Response:
    """The chain's current head and its latest verification, read together: anyone may note it and
    later check that history was not rewritten."""
    state = chain_state()
    checkpoint = state.checkpoint
    return Response(
        {
            "seq": state.head_seq,
            "hash": state.head_hash,
            "last_verified_at": checkpoint.verified_at if checkpoint else None,
            "last_verified_seq": checkpoint.seq if checkpoint else None,
            "last_verification_ok": checkpoint.ok if checkpoint else None,
        }
    )


class PublishedHeadSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    hash = serializers.CharField()
    verified_at = serializers.DateTimeField(help_text="when the clock first verified this head")


@extend_schema(
    parameters=[OpenApiParameter("before_seq", int, description="paging: heads below this seq")],
    responses=PublishedHeadSerializer(many=True),
)
@api_view(["GET"])
@permission_classes([AllowAny])
def heads(request: Request) -> Response:
    """The published head history, newest first, 100 at a time: every head the clock verified. Keep
    any of them; `manage.py verify_audit --expect-head SEQ:HASH` holds the chain to it."""
    rows = published_heads(before_seq=before_seq_param(request.query_params), limit=PUBLISHED_PAGE)
    return Response(PublishedHeadSerializer(rows, many=True).data)

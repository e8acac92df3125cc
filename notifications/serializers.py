from __future__ import annotations

from rest_framework import serializers

from notifications.models import Notice


class NoticeSerializer(serializers.ModelSerializer[Notice]):
    title = serializers.CharField(read_only=True)
    body = serializers.CharField(read_only=True)
    legal = serializers.BooleanField(read_only=True)
    read = serializers.SerializerMethodField()

    class Meta:
        model = Notice
        fields = ["id", "kind", "title", "body", "url", "due_at", "created_at", "read", "legal"]
        read_only_fields = fields

    def get_read(self, notice: Notice) -> bool:
        return notice.read_at is not None


class UnreadSerializer(serializers.Serializer[None]):
    unread = serializers.IntegerField()

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


class TodoItemSerializer(serializers.Serializer[object]):
    """One to-do item (notifications.todo.TodoItem), in the request's language."""

    key = serializers.CharField(help_text="stable while the item is pending")
    action = serializers.CharField()
    subject = serializers.CharField()
    url = serializers.CharField()
    due_at = serializers.DateTimeField(allow_null=True)
    overdue = serializers.BooleanField()
    legal = serializers.BooleanField(help_text="a legal deadline: a right lapses when it passes")

from rest_framework import serializers

from apps.support.audit.models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = (
            "id",
            "sequence",
            "occurred_at",
            "actor_id",
            "actor_label",
            "actor_roles",
            "action",
            "target_type",
            "target_id",
            "changes",
            "metadata",
            "request_id",
            "ip_address",
            "user_agent",
            "hash",
            "previous_hash",
        )
        read_only_fields = fields

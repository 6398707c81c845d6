from rest_framework import serializers

from apps.support.audit.chain import HASHED_FIELDS
from apps.support.audit.models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = ("id", *HASHED_FIELDS, "hash")
        read_only_fields = fields

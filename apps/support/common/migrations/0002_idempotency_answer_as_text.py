import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import migrations, models


def answers_to_text(apps, schema_editor):
    """Keep the answers of keys still within their 24 hours."""
    keys = apps.get_model("common", "IdempotencyKey")
    for key in keys.objects.exclude(status_code=None).only("pk", "response_body"):
        key.response_json = json.dumps(key.response_body, cls=DjangoJSONEncoder)
        key.save(update_fields=["response_json"])


def answers_to_json(apps, schema_editor):
    keys = apps.get_model("common", "IdempotencyKey")
    for key in keys.objects.exclude(response_json="").only("pk", "response_json"):
        key.response_body = json.loads(key.response_json)
        key.save(update_fields=["response_body"])


class Migration(migrations.Migration):

    dependencies = [
        ('common', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='idempotencykey',
            name='response_json',
            field=models.TextField(blank=True, verbose_name='response body (JSON)'),
        ),
        migrations.RunPython(answers_to_text, answers_to_json),
        migrations.RemoveField(
            model_name='idempotencykey',
            name='response_body',
        ),
    ]

# Refunds become records with a status (asked for, confirmed, refused) and a scope; payments
# keep the gateway's capture id and may be partly refunded; orders may be disputed; webhook
# events count their processing attempts and when to try a failed one again.

from django.db import migrations, models


def refunds_status_from_succeeded(apps, schema_editor):
    Refund = apps.get_model("payments", "Refund")
    Refund.objects.filter(succeeded=True).update(status="succeeded", completed_at=models.F("created_at"))
    Refund.objects.filter(succeeded=False).update(status="failed")


def refunds_succeeded_from_status(apps, schema_editor):
    Refund = apps.get_model("payments", "Refund")
    Refund.objects.update(succeeded=models.Q(status="succeeded"))


class Migration(migrations.Migration):

    dependencies = [
        ('payments', '0004_amounts_not_negative'),
    ]

    operations = [
        migrations.AddField(
            model_name='order',
            name='disputed_at',
            field=models.DateTimeField(blank=True, help_text="When the buyer's bank opened a dispute (chargeback) on its payment.", null=True, verbose_name='disputed at'),
        ),
        migrations.AddField(
            model_name='payment',
            name='capture_reference',
            field=models.CharField(blank=True, db_index=True, help_text="The gateway's id of the money movement (Stripe charge, PayPal capture).", max_length=120, verbose_name='capture reference'),
        ),
        migrations.AlterField(
            model_name='payment',
            name='status',
            field=models.CharField(choices=[('pending', 'Pending'), ('succeeded', 'Succeeded'), ('failed', 'Failed'), ('partially_refunded', 'Partially refunded'), ('refunded', 'Refunded')], default='pending', max_length=20, verbose_name='status'),
        ),
        migrations.AddField(
            model_name='refund',
            name='status',
            field=models.CharField(choices=[('pending', 'Pending'), ('succeeded', 'Succeeded'), ('failed', 'Failed')], default='pending', max_length=16, verbose_name='status'),
        ),
        migrations.AddField(
            model_name='refund',
            name='scope',
            field=models.CharField(choices=[('order', 'The whole order'), ('lines', 'Some lines'), ('amount', 'An amount'), ('cancellation', 'A cancellation'), ('unfulfillable', 'Money for an order that could not be delivered'), ('gateway', "Made in the gateway's dashboard")], default='cancellation', max_length=16, verbose_name='scope'),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='refund',
            name='lines',
            field=models.JSONField(blank=True, default=list, help_text='Order lines refunded: [{"line": id, "quantity": n}].', verbose_name='lines'),
        ),
        migrations.AddField(
            model_name='refund',
            name='attempts',
            field=models.PositiveIntegerField(default=0, verbose_name='attempts'),
        ),
        migrations.AddField(
            model_name='refund',
            name='completed_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='completed at'),
        ),
        migrations.RunPython(refunds_status_from_succeeded, refunds_succeeded_from_status),
        migrations.RemoveField(
            model_name='refund',
            name='succeeded',
        ),
        migrations.AddConstraint(
            model_name='refund',
            constraint=models.UniqueConstraint(condition=models.Q(('gateway_reference', ''), _negated=True), fields=('payment', 'gateway_reference'), name='refund_gateway_reference_unique'),
        ),
        migrations.RenameField(
            model_name='webhookevent',
            old_name='error',
            new_name='last_error',
        ),
        migrations.AlterField(
            model_name='webhookevent',
            name='last_error',
            field=models.TextField(blank=True, verbose_name='last error'),
        ),
        migrations.AlterField(
            model_name='webhookevent',
            name='deliveries',
            field=models.PositiveIntegerField(default=1, help_text='How many times the gateway sent it.', verbose_name='deliveries'),
        ),
        migrations.AddField(
            model_name='webhookevent',
            name='attempts',
            field=models.PositiveIntegerField(default=0, help_text='How many times it was processed.', verbose_name='attempts'),
        ),
        migrations.AddField(
            model_name='webhookevent',
            name='next_attempt_at',
            field=models.DateTimeField(blank=True, help_text='A failed event is tried again from this moment (backoff).', null=True, verbose_name='next attempt at'),
        ),
        migrations.AddIndex(
            model_name='webhookevent',
            index=models.Index(fields=['status', 'next_attempt_at'], name='webhook_event_due'),
        ),
    ]

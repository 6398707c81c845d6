from decimal import Decimal

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0003_closure_slots_and_validators"),
    ]

    operations = [
        migrations.AddField(
            model_name="reservation",
            name="unit_price",
            field=models.DecimalField(
                decimal_places=2,
                default=Decimal("0"),
                help_text="As charged in the order.",
                max_digits=12,
                verbose_name="unit price",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="ticket",
            name="price",
            field=models.DecimalField(
                decimal_places=2,
                default=Decimal("0"),
                help_text="As charged in the order.",
                max_digits=12,
                verbose_name="price",
            ),
            preserve_default=False,
        ),
    ]

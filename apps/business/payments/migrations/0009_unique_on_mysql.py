"""The conditional or expression unique constraints Django leaves out on MySQL/MariaDB,
enforced there with generated columns (apps/support/common/constraints.py); nothing elsewhere."""

from django.db import migrations

from apps.support.common.constraints import UniqueOnMySQL


class Migration(migrations.Migration):
    # MySQL/MariaDB commit each ALTER TABLE at once: no transaction around them.
    atomic = False

    dependencies = [("payments", "0008_report_indexes")]

    operations = [
        UniqueOnMySQL(model_name="payment", name="payment_gateway_reference_unique"),
        UniqueOnMySQL(model_name="payment", name="payment_one_pending_per_order"),
        UniqueOnMySQL(model_name="refund", name="refund_gateway_reference_unique"),
    ]

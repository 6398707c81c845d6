"""The conditional or expression unique constraints Django leaves out on MySQL/MariaDB,
enforced there with generated columns (apps/support/common/constraints.py); nothing elsewhere."""

from django.db import migrations

from apps.support.common.constraints import UniqueOnMySQL


class Migration(migrations.Migration):
    # MySQL/MariaDB commit each ALTER TABLE at once: no transaction around them.
    atomic = False

    dependencies = [("infrastructure", "0002_role_permissions")]

    operations = [
        UniqueOnMySQL(model_name="wateralert", name="one_open_alert_per_parameter"),
    ]

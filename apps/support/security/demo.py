"""Demo accounts. The security module adds one account per staff role when roles exist."""

from apps.support.common.demo import DemoAccount, DemoContext, demo_step

from .models import User

DEMO_PASSWORD = "parque-marino-demo"  # noqa: S105 - published on purpose, demo only


@demo_step(order=10, name="security.accounts")
def create_demo_accounts(context: DemoContext) -> None:
    accounts = [
        ("admin@parquemarino.test", "Ana", "Administradora", "administrator", True),
        ("visitor@parquemarino.test", "Vera", "Visitante", "visitor", False),
    ]
    for email, first_name, last_name, role, is_admin in accounts:
        user, _ = User.objects.update_or_create(
            email=email,
            defaults={
                "first_name": first_name,
                "last_name": last_name,
                "is_staff": is_admin,
                "is_superuser": is_admin,
                "is_active": True,
            },
        )
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        context.accounts.append(DemoAccount(email=email, password=DEMO_PASSWORD, role=role))

"""Demo accounts: an administrator, one member of staff per role, and a visitor."""

from django.contrib.auth.models import Group

from apps.support.common.demo import DemoAccount, DemoContext, demo_step

from .models import User
from .roles import Role

DEMO_PASSWORD = "parque-marino-demo"  # noqa: S105 - published on purpose, demo only

STAFF = (
    (Role.ADMINISTRATOR, "admin@parquemarino.test", "Ana", "Administradora"),
    (Role.CURATOR, "curator@parquemarino.test", "Carlos", "Curador"),
    (Role.VETERINARIAN, "vet@parquemarino.test", "Valeria", "Veterinaria"),
    (Role.AQUARIST, "aquarist@parquemarino.test", "Andrés", "Acuarista"),
    (Role.EDUCATOR, "educator@parquemarino.test", "Elena", "Educadora"),
    (Role.CONTENT_EDITOR, "editor@parquemarino.test", "Esteban", "Editor"),
    (Role.TICKET_OFFICE, "tickets@parquemarino.test", "Tatiana", "Taquilla"),
    (Role.GATE_STAFF, "gate@parquemarino.test", "Gabriel", "Portón"),
    (Role.FINANCE, "finance@parquemarino.test", "Fernanda", "Finanzas"),
    (Role.AUDITOR, "auditor@parquemarino.test", "Aurelio", "Auditor"),
)
VISITOR = ("visitor@parquemarino.test", "Vera", "Visitante")


def _account(email: str, first_name: str, last_name: str, *, staff: bool) -> User:
    user, _ = User.objects.update_or_create(
        email=email,
        defaults={
            "first_name": first_name,
            "last_name": last_name,
            "is_staff": staff,
            "is_active": True,
        },
    )
    if not user.check_password(DEMO_PASSWORD):
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user


@demo_step(order=10, name="security.accounts")
def create_demo_accounts(context: DemoContext) -> None:
    for role, email, first_name, last_name in STAFF:
        user = _account(email, first_name, last_name, staff=True)
        if not user.groups.filter(name=role).exists():
            user.groups.add(Group.objects.get(name=role))
        if role == Role.ADMINISTRATOR and not user.is_superuser:
            user.is_superuser = True
            user.save(update_fields=["is_superuser"])
        context.accounts.append(DemoAccount(email=email, password=DEMO_PASSWORD, role=role))
    email, first_name, last_name = VISITOR
    _account(email, first_name, last_name, staff=False)
    context.accounts.append(DemoAccount(email=email, password=DEMO_PASSWORD, role="visitor"))

from django.db import migrations

ROLE_PERMISSIONS = {
    "ticket_office": [
        "tickets.view_tickettype",
        "tickets.add_tickettype",
        "tickets.change_tickettype",
        "tickets.view_openingschedule",
        "tickets.add_openingschedule",
        "tickets.change_openingschedule",
        "tickets.delete_openingschedule",
        "tickets.view_closure",
        "tickets.add_closure",
        "tickets.delete_closure",
        "tickets.view_timeslot",
        "tickets.change_timeslot",
        "tickets.view_reservation",
        "tickets.view_ticket",
        "tickets.view_checkin",
    ],
    "gate_staff": ["tickets.view_ticket", "tickets.view_checkin", "tickets.view_timeslot"],
    "finance": [
        "tickets.view_tickettype",
        "tickets.view_timeslot",
        "tickets.view_reservation",
        "tickets.view_ticket",
    ],
}


def grant(apps, schema_editor):
    from apps.support.security.roles import grant_role_permissions

    for role, permissions in ROLE_PERMISSIONS.items():
        grant_role_permissions(apps, role, permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0001_initial"),
        ("security", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]

"""Only administrators manage accounts and roles; every grant and revocation is audited."""

import pytest
from django.contrib.auth.models import Group

from apps.support.audit.models import AuditEvent
from apps.support.security.models import User
from apps.support.security.roles import Role
from tests.factories import UserFactory
from tests.helpers import client_for, staff_member

pytestmark = pytest.mark.django_db

USERS = "/api/v1/security/users/"


def roles_of(user: User) -> list[str]:
    return sorted(user.groups.values_list("name", flat=True))


@pytest.mark.parametrize("role", [role for role in Role.values if role != Role.ADMINISTRATOR])
def test_no_other_role_can_grant_a_role_even_to_itself(role):
    member = staff_member(role)
    response = client_for(member).patch(
        f"{USERS}{member.pk}/", {"roles": [Role.ADMINISTRATOR]}, format="json"
    )
    assert response.status_code == 403
    assert roles_of(member) == [role]


def test_visitor_cannot_list_or_edit_users(user):
    client = client_for(user)
    assert client.get(USERS).status_code == 403
    response = client.patch(f"{USERS}{user.pk}/", {"roles": ["finance"]}, format="json")
    assert response.status_code == 403
    assert roles_of(user) == []


def test_anonymous_is_401(api_client):
    assert api_client.get(USERS).status_code == 401


def test_administrator_creates_a_staff_account_with_roles(admin_client, administrator):
    response = admin_client.post(
        USERS,
        {
            "email": "Vet2@parquemarino.test",
            "password": "a-long-enough-password",
            "first_name": "Valentina",
            "roles": ["veterinarian"],
        },
        format="json",
    )
    assert response.status_code == 201
    created = User.objects.get(email="vet2@parquemarino.test")
    assert response.json()["roles"] == ["veterinarian"]
    assert (created.is_staff, roles_of(created)) == (True, ["veterinarian"])
    granted = AuditEvent.objects.get(action="security.role.granted", target_id=str(created.pk))
    assert (granted.actor_id, granted.target_id, granted.metadata) == (
        administrator.pk,
        str(created.pk),
        {"role": "veterinarian"},
    )


def test_administrator_changes_roles_and_each_change_is_audited(admin_client):
    member = staff_member(Role.CURATOR)
    response = admin_client.patch(
        f"{USERS}{member.pk}/", {"roles": ["aquarist", "veterinarian"]}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["roles"] == ["aquarist", "veterinarian"]
    entries = sorted(
        AuditEvent.objects.filter(
            action__startswith="security.role.", target_id=str(member.pk)
        ).values_list("action", "metadata__role")
    )
    assert entries == [
        ("security.role.granted", "aquarist"),
        ("security.role.granted", "curator"),
        ("security.role.granted", "veterinarian"),
        ("security.role.revoked", "curator"),
    ]


def test_removing_every_role_ends_back_office_access(admin_client):
    member = staff_member(Role.FINANCE)
    admin_client.patch(f"{USERS}{member.pk}/", {"roles": []}, format="json")
    member.refresh_from_db()
    assert (member.is_staff, roles_of(member)) == (False, [])


def test_last_administrator_keeps_the_role(administrator):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    response = client_for(superuser).patch(
        f"{USERS}{administrator.pk}/", {"roles": []}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "last_administrator"
    assert roles_of(administrator) == ["administrator"]


@pytest.mark.parametrize(
    "roles", [["administrator", "finance"], [], ["finance"], ["administrator", "auditor"]]
)
def test_an_administrator_cannot_change_their_own_roles(admin_client, administrator, roles):
    staff_member(Role.ADMINISTRATOR)  # not the last administrator: that is not the reason
    audited, first_name = AuditEvent.objects.count(), administrator.first_name
    response = admin_client.patch(
        f"{USERS}{administrator.pk}/", {"roles": roles, "first_name": "Changed"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "cannot_change_own_roles"
    assert response.json()["errors"][0]["field"] == "roles"
    administrator.refresh_from_db()
    assert (roles_of(administrator), administrator.first_name) == (["administrator"], first_name)
    assert AuditEvent.objects.count() == audited


def test_an_administrator_edits_their_own_profile_with_their_roles_unchanged(
    admin_client, administrator
):
    response = admin_client.patch(
        f"{USERS}{administrator.pk}/",
        {"roles": ["administrator"], "first_name": "Ana"},
        format="json",
    )
    assert response.status_code == 200
    assert (response.json()["first_name"], response.json()["roles"]) == ("Ana", ["administrator"])


def test_unknown_role_is_refused(admin_client, user):
    response = admin_client.patch(f"{USERS}{user.pk}/", {"roles": ["zookeeper"]}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "roles.0"
    assert roles_of(user) == []


def test_deactivation_ends_every_session(admin_client, api_client, user):
    tokens = api_client.post(
        "/api/v1/auth/token/",
        {"email": user.email, "password": "a-long-enough-password"},
        format="json",
    ).json()
    response = admin_client.patch(f"{USERS}{user.pk}/", {"is_active": False}, format="json")
    assert response.status_code == 200
    refreshed = api_client.post(
        "/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json"
    )
    assert refreshed.status_code == 401


def test_list_filters_by_role_with_constant_queries(admin_client, django_assert_num_queries):
    for _ in range(3):
        staff_member(Role.EDUCATOR)
    UserFactory()
    # The caller with their roles, the count, the page, the roles of the page's users.
    with django_assert_num_queries(4):
        response = admin_client.get(USERS, {"role": "educator", "page_size": 1})
    assert response.json()["count"] == 3
    with django_assert_num_queries(4):
        response = admin_client.get(USERS, {"page_size": 50})
    assert response.json()["count"] == 5  # with the administrator


def test_roles_list_their_permissions(admin_client):
    response = admin_client.get("/api/v1/security/roles/", {"search": "auditor"})
    assert response.json()["results"] == [
        {
            "id": Group.objects.get(name="auditor").pk,
            "name": "auditor",
            "description": "Reads the audit trail; changes nothing.",
            "permissions": [
                "audit.view_auditevent",
                "documents.view_document",
                "documents.view_documentaccess",
                "documents.view_documentversion",
                "documents.view_folder",
                "documents.view_sharelink",
                "documents.view_tag",
                "donations.view_campaign",
                "donations.view_donation",
                "finance.view_salesday",
                "finance.view_salesdaytotal",
                "invoicing.view_invoice",
                "invoicing.view_invoicecounter",
            ],
            "member_count": 0,
        }
    ]


def test_only_a_superuser_changes_a_superuser_s_account(admin_client):
    superuser = UserFactory(is_staff=True, is_superuser=True, first_name="Root")
    audited = AuditEvent.objects.count()
    for body in ({"first_name": "Taken"}, {"is_active": False}, {"roles": ["finance"]}):
        response = admin_client.patch(f"{USERS}{superuser.pk}/", body, format="json")
        assert (response.status_code, response.json()["code"]) == (403, "superuser_only")
    superuser.refresh_from_db()
    assert (superuser.first_name, superuser.is_active, roles_of(superuser)) == ("Root", True, [])
    assert AuditEvent.objects.count() == audited
    other_superuser = client_for(UserFactory(is_staff=True, is_superuser=True))
    response = other_superuser.patch(f"{USERS}{superuser.pk}/", {"first_name": "Ok"}, format="json")
    assert response.status_code == 200

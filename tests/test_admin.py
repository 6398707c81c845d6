"""The back office: users are searchable and filterable."""

import pytest

pytestmark = pytest.mark.django_db


def test_user_changelist_search_and_filter(client, administrator, user):
    client.force_login(administrator)
    response = client.get("/admin/security/user/", {"q": user.email, "is_staff__exact": "0"})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    assert list(response.context["cl"].result_list) == [user]


def test_user_add_page_uses_email(client, administrator):
    client.force_login(administrator)
    response = client.get("/admin/security/user/add/")
    assert response.status_code == 200
    assert list(response.context["adminform"].form.fields)[:2] == ["email", "first_name"]


def test_admin_requires_staff(client, user):
    client.force_login(user)
    response = client.get("/admin/security/user/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_only_a_superuser_can_make_a_superuser(client, administrator, user):
    client.force_login(administrator)
    response = client.get(f"/admin/security/user/{user.pk}/change/")
    form_fields = response.context["adminform"].form.fields
    assert "is_superuser" not in form_fields
    assert "user_permissions" not in form_fields
    assert "groups" in form_fields


def test_security_and_audit_records_are_in_the_back_office(client, administrator):
    administrator.is_superuser = True
    administrator.save()
    client.force_login(administrator)
    for url in (
        "/admin/audit/auditevent/",
        "/admin/audit/auditchainhead/",
        "/admin/security/refreshtokenrotation/",
        "/admin/token_blacklist/outstandingtoken/",
        "/admin/axes/accessattempt/",
    ):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize(
    "url",
    [
        "/admin/infrastructure/section/?q=Arrecife&is_public__exact=1",
        "/admin/infrastructure/habitat/?q=Tank&kind__exact=tank",
        "/admin/infrastructure/waterreading/?q=Tank",
        "/admin/infrastructure/wateralert/?parameter__exact=ph",
        "/admin/wildlife/conservationstatus/?q=EN",
        "/admin/wildlife/species/?q=pez&conservation_status__id__exact=1",
        "/admin/wildlife/animal/?q=PMP&status__exact=in_collection",
        "/admin/wildlife/animallocation/",
        "/admin/wildlife/weight/",
        "/admin/wildlife/medicalrecord/?kind__exact=exam",
    ],
)
def test_collection_models_are_searchable_in_the_back_office(client, administrator, url):
    from tests.factories import AnimalFactory

    AnimalFactory()
    administrator.is_superuser = True
    administrator.save()
    client.force_login(administrator)
    assert client.get(url).status_code == 200


def test_records_of_the_collection_are_read_only(client, administrator):
    administrator.is_superuser = True
    administrator.save()
    client.force_login(administrator)
    for url in ("/admin/infrastructure/waterreading/add/", "/admin/wildlife/animallocation/add/"):
        assert client.get(url).status_code == 403

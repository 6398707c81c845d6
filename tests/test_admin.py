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

"""The staff back office's site (Django admin, at /admin/): who sees what.

Who may view, add, change or delete a model is what the API lets them do with it
(``api.back_office``), asked once per request and model; models the API does not list keep
the model permissions of the roles.
"""

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest


class BackOfficeSite(admin.AdminSite):
    def access(self, request: HttpRequest, model: type[Model], permission: str) -> bool | None:
        """What the API lets the signed-in user do with ``model`` (``view``, ``add``,
        ``change``, ``delete``); ``None``: the API does not say (model permissions decide)."""
        from api import back_office

        answers = request.__dict__.setdefault("_back_office_access", {})
        key = (model, permission)
        if key not in answers:
            answers[key] = back_office.allows(request.user, model, permission)
        return answers[key]

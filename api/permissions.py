"""Permission classes that modules declare on their views.

Staff roles are Django groups carrying model permissions (``<app>.view_<model>``,
``add``, ``change``, ``delete``), so one role can be granted exactly what its work needs.
"""

from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.views import APIView


class ModelPermissions(permissions.DjangoModelPermissions):
    """Authenticated users holding the model permission of the action, reads included."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }


class PublicReadModelPermissions(ModelPermissions):
    """Anyone may read (the public website); writes need the model permission."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return super().has_permission(request, view)

from django.contrib.admin.apps import AdminConfig


class BackOfficeAdminConfig(AdminConfig):
    """Django's admin, on the park's site (``config.admin.BackOfficeSite``)."""

    default_site = "config.admin.BackOfficeSite"

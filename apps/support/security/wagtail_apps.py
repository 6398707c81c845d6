"""Wagtail's users app, configured with the closed account screens of ``wagtail_users``."""

from wagtail.users.apps import WagtailUsersAppConfig


class WagtailUsersConfig(WagtailUsersAppConfig):
    user_viewset = "apps.support.security.wagtail_users.UserViewSet"
    group_viewset = "apps.support.security.wagtail_users.GroupViewSet"

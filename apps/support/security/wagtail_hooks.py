"""The editors' screen (Wagtail, /cms/) refuses bulk actions on accounts and groups
(``wagtail_users``)."""

from wagtail import hooks

from .wagtail_users import refuse_bulk_actions_on_accounts

hooks.register("before_bulk_action", refuse_bulk_actions_on_accounts)

"""Error codes of the security module."""

INVALID_CREDENTIALS = "invalid_credentials"
LOCKED_OUT = "locked_out"
EMAIL_TAKEN = "email_taken"
WRONG_PASSWORD = "wrong_password"  # noqa: S105 - an error code, not a password
INVALID_RESET_LINK = "invalid_reset_link"
INVALID_REFRESH_TOKEN = "token_not_valid"  # noqa: S105
TOKEN_NOT_YOURS = "token_not_yours"  # noqa: S105
UNKNOWN_ROLE = "unknown_role"
LAST_ADMINISTRATOR = "last_administrator"
INACTIVE_ACCOUNT = "inactive_account"
CANNOT_DEACTIVATE_SELF = "cannot_deactivate_self"
OWN_ROLES = "cannot_change_own_roles"
SUPERUSER_ONLY = "superuser_only"

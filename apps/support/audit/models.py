"""The append-only audit trail (built by the security and audit issue)."""

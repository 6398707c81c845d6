"""The donations tests' fixtures (an open campaign, a finance member) for the review tests."""

from tests.donations.conftest import campaign, finance, finance_client  # noqa: F401

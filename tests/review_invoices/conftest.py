from tests.invoicing.conftest import adult, child, slot, visitor, year  # noqa: F401

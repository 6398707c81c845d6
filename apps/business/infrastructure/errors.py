"""Error codes of the infrastructure module."""

RANGE_INVERTED = "range_inverted"
READING_EMPTY = "reading_empty"
NO_WATER = "habitat_without_water"
SECTION_IN_USE = "section_in_use"

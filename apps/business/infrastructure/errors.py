"""Error codes of the infrastructure module."""

RANGE_INVERTED = "range_inverted"
READING_EMPTY = "reading_empty"
NO_WATER = "habitat_without_water"
CAPACITY_BELOW_OCCUPANCY = "capacity_below_occupancy"

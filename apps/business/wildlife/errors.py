"""Error codes of the wildlife module."""

HABITAT_FULL = "habitat_full"
NOT_RESIDENT = "animal_not_resident"
SAME_HABITAT = "same_habitat"
NOT_RELEASABLE = "animal_not_releasable"
INVALID_STATUS_CHANGE = "invalid_status_change"
IMAGE_INVALID = "image_invalid"  # raised by apps.support.common.images
IMAGE_TOO_LARGE = "image_too_large"

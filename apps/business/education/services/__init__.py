"""Writes of the education module.

Lock order, everywhere: the place and instructor rows (scheduling), or the order row (paid
enrollments); then the session row; then the audit chain head (``audit.record`` is the last
write of each transaction). Gateways and mail are reached only after the commit.
"""

from .enrollments import enrollment_accept_offer, enrollment_cancel, enrollment_create
from .programs import (
    instructor_create,
    instructor_update,
    program_create,
    program_image_add,
    program_image_remove,
    program_update,
)
from .sessions import (
    session_attendance,
    session_cancel,
    session_create,
    session_finish_cancellation,
    session_update,
)

__all__ = [
    "enrollment_accept_offer",
    "enrollment_cancel",
    "enrollment_create",
    "instructor_create",
    "instructor_update",
    "program_create",
    "program_image_add",
    "program_image_remove",
    "program_update",
    "session_attendance",
    "session_cancel",
    "session_create",
    "session_finish_cancellation",
    "session_update",
]

"""Education programs, sessions and enrollments."""

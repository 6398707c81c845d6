"""Documents with versions."""

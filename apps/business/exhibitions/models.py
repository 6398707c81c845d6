"""Exhibition content shown to visitors."""

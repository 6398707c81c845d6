"""Species, animals and their records."""

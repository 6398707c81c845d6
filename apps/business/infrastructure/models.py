"""The park's sections and physical habitats, and their water quality."""

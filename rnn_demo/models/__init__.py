"""Model families: Keras models (the reference), their NumPy and compiled steps that serve, and the registry."""

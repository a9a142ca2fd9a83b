"""Model families: Keras models (the reference) and their fast NumPy steps."""

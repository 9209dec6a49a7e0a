"""nnscratch: neural networks from scratch on NumPy."""

"""Benchmarks of nnscratch against a NumPy loop, PyTorch and scikit-learn (see run.py)."""

"""Layer 4, the model file: the checksummed container and what an estimator's file holds. Imports only the
layers before it.
"""

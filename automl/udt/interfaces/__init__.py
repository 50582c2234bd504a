"""Layer 5, the interfaces: the scikit-learn estimators, the command line, the HTTP server, explanations.
Imports any layer before it; nothing imports it but udt/__init__.py.
"""

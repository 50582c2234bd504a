"""Layer 2, model selection: data statistics + options -> a Plan (every "auto" resolved, with its reason).
Imports only the layers before it.
"""

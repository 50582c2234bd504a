"""Layer 3, training: fit_model (statistics, plan, network, the epoch loop, output head, index) and what it
produces, the FittedModel. Imports only the layers before it.
"""

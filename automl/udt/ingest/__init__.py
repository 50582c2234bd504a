"""Layer 1, reading and featurizing: files, frames and tables -> Arrow record batches -> CsrBatch rows
(features, scaling, labels) through the C++ featurizer. Imports only udt's top-level modules.
"""

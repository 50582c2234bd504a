"""udt: sparse neural networks (SLIDE/BOLT) for classification, search and recommendation on CPUs."""
from . import _core, engine

__version__ = "0.1.0"

"""camnet: one server that makes every camera reachable in the dialects clients already speak."""

__version__ = "0.1.0"

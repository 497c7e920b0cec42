"""The streams dialect: ``/cameras/{mxid}/streams/...`` (seed 002)."""

"""The service network: presence of services across nodes, the Store, and the API for
writing your own services (``camnet.network.Service``)."""

from camnet.network.service import STORE_SERVICE, Service, StoreUnavailable, WriteRefused

__all__ = ["STORE_SERVICE", "Service", "StoreUnavailable", "WriteRefused"]

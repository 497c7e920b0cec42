"""The service network: presence of services across nodes (and, to come, the Store and the
API for writing your own services)."""

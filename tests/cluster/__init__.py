"""Several real ``camnet serve`` processes on one NATS server: the cluster's own tests."""

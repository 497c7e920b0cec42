"""Several real ``camnet serve`` processes on NATS and PostgreSQL, as an integrator runs them."""

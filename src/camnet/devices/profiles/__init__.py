"""Variable tables of the device kinds camnet simulates and serves."""

"""Recording and Visual Backup: storages, segments, retention, capacity, tags."""

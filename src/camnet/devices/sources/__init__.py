"""Frame sources: where a camera head's pictures come from (simulated or OpenCV)."""

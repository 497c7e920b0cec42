"""Identity: who is asking, and what they may do. The single policy point of every face."""

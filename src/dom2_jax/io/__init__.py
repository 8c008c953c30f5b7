"""The edge: everything that touches files (datasets, policies, checkpoints, metrics, plots)."""

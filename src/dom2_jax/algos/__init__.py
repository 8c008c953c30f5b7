"""Algorithms: offline learners (`dom2`, baselines) and, under `online/`, the behaviour-policy
trainer (MATD3) that produces the datasets' medium and expert policies."""

"""Offline datasets: schema, generation, sampling and the reference returns for scores."""

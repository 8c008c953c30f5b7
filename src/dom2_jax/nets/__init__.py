"""Networks and diffusion machinery: MLPs, time embeddings, noise schedules, samplers, critics."""

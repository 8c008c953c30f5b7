"""JAX-native multi-agent particle environments in the OMAR protocol (and mpe2's)."""

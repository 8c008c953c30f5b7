"""dom2-jax: diffusion policies for offline multi-agent RL (DOM2) in JAX/Flax."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("dom2-jax")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__", "make_env"]


def __getattr__(name: str):
    # Lazy: `python -m dom2_jax --distributed` must call jax.distributed.initialize before
    # anything starts the XLA backend, and the envs' imports must not be able to.
    if name == "make_env":
        from dom2_jax.envs import make

        return make
    raise AttributeError(f"module 'dom2_jax' has no attribute {name!r}")

"""dom2-jax: diffusion policies for offline multi-agent RL (DOM2) in JAX/Flax."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("dom2-jax")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+unknown"

from dom2_jax.envs import make as make_env  # noqa: E402

__all__ = ["__version__", "make_env"]

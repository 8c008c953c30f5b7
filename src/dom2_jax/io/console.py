"""What the CLI shows on the terminal besides a command's own output (used by `cli.main` only).

- Expected errors (`EXPECTED`: `dom2_jax.errors.UserError` and its kinds, `DatasetError`,
  `MissingPolicyError`) become one line, `dom2-jax: error: <message>`, and exit status 2;
  anything else keeps its traceback.
- `quiet_library_noise()` drops exactly three messages a user cannot act on, each where it is
  emitted, and leaves every other warning visible:
  brax's `UserWarning` that it is "not actively being maintained" (a warnings filter);
  mujoco.mjx's `print('Failed to import warp: ...')` and `('Failed to import mujoco_warp: ...')`
  on import (that module's stdout, filtered line by line while it executes);
  MuJoCo's C warning "compiler attribute 'settotalmass' is deprecated", once per HalfCheetah env
  (a `mujoco.set_mju_user_warning` handler that writes every other warning as MuJoCo does).
  Both import-time hooks wait for the module to be imported, so commands that never touch brax
  pay nothing.
"""

from __future__ import annotations

import contextlib
import io
import sys
import warnings
from importlib.abc import MetaPathFinder

from dom2_jax.assets import MissingPolicyError
from dom2_jax.data.schema import DatasetError
from dom2_jax.errors import UserError

EXPECTED = (UserError, DatasetError, MissingPolicyError)
PROG = "dom2-jax"
BRAX_UNMAINTAINED = "Brax System, piplines and environments are not actively being maintained"
WARP_IMPORT_LINES = ("Failed to import warp:", "Failed to import mujoco_warp:")
MUJOCO_DEPRECATED = ("compiler attribute 'settotalmass' is deprecated",)


def report(err: BaseException) -> int:
    """Print `err` as the CLI's one-line error; returns the exit status (2)."""
    message = " ".join(str(err).split()) or type(err).__name__
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


def quiet_library_noise() -> None:
    """Install the three filters (idempotent); call before anything imports brax."""
    warnings.filterwarnings("ignore", message=BRAX_UNMAINTAINED, category=UserWarning)
    if not any(isinstance(f, _AfterImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterImport())
    if "mujoco" in sys.modules:
        _install_mujoco_handler(sys.modules["mujoco"])


def _mujoco_warning(message: str) -> None:
    if not any(known in message for known in MUJOCO_DEPRECATED):
        print(f"WARNING: {message}\n", file=sys.stderr)  # MuJoCo's default handler's format


def _install_mujoco_handler(mujoco) -> None:
    if hasattr(mujoco, "set_mju_user_warning"):
        mujoco.set_mju_user_warning(_mujoco_warning)


def _exec_quiet_warp(exec_module, module) -> None:
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec_module(module)
    finally:
        lines = out.getvalue().splitlines(keepends=True)
        sys.stdout.write("".join(x for x in lines if not x.startswith(WARP_IMPORT_LINES)))


def _exec_mujoco(exec_module, module) -> None:
    exec_module(module)
    _install_mujoco_handler(module)


class _AfterImport(MetaPathFinder):
    """Wraps the execution of the two modules whose import-time output is filtered."""

    HOOKS = {"mujoco": _exec_mujoco, "mujoco.mjx.warp": _exec_quiet_warp}

    def find_spec(self, name, path, target=None):
        hook = self.HOOKS.get(name)
        if hook is None:
            return None
        for finder in sys.meta_path:  # the spec the other finders would give
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        exec_module = loader.exec_module
        loader.exec_module = lambda module: hook(exec_module, module)
        return spec

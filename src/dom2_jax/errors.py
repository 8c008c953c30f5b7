"""The errors a user can fix: a flag, a config field, a file, a run directory or a missing extra.

`python -m dom2_jax` prints their message as one line, `dom2-jax: error: <message>`, and exits
with status 2 (`--debug`: the traceback); so do `data.schema.DatasetError` and
`assets.MissingPolicyError`. Every message names the flag, field or file and what was expected.
Each class also derives from the builtin a library caller would catch.
"""

from __future__ import annotations


class UserError(Exception):
    """Base: an input the user gave is wrong (the message says which and what was expected)."""


class ConfigError(UserError, ValueError):
    """A flag or config value, or an unknown name (env, algorithm, level, preset, field)."""


class RunDirError(UserError, FileExistsError):
    """A run directory that already holds checkpoints, without `--resume`."""


class ResumeError(UserError, ValueError):
    """`--resume` of a run whose checkpoint has another config or dataset."""


class MissingExtraError(UserError, ImportError):
    """An optional dependency is not installed; the message names the `pip install` line."""

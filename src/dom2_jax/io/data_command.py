"""The `data` subcommand's body (`python -m dom2_jax data [ACTION]`; the options are in `cli.py`).

- `generate` (the default, `data --env E --level L`): roll out a level's behaviour policy.
- `import --omar DIR | --ogmarl VAULT --out FILE`: `io.importers` into a dataset file, which
  is then read back with the env's checks (sizes, action bounds) and described.
- `export FILE --ogmarl DIR/NAME/UID`: a verified dataset file into an og-marl vault, read back.
- `info FILE`: metadata, sizes, return statistics, checksum and schema status (exit status 1
  when the checksum or schema fails: the block says which).
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

import numpy as np

from dom2_jax.assets import MissingPolicyError, array_checksum
from dom2_jax.config import levels_for
from dom2_jax.data import reference_returns
from dom2_jax.data.dataset import Dataset, episode_returns
from dom2_jax.data.schema import DatasetError, validate
from dom2_jax.envs import make, registered_names
from dom2_jax.errors import ConfigError
from dom2_jax.io.dataset_files import METADATA_KEY, load_dataset, read_metadata, write_dataset

DEFAULT_ENV = "mpe_spread"


def data(args: argparse.Namespace) -> int:
    required = {"import": ("out",), "export": ("file", "ogmarl"), "info": ("file",)}
    for name in required.get(args.action, ()):
        if not getattr(args, name):
            flag = "FILE" if name == "file" else f"--{name}"
            raise ConfigError(f"data {args.action}: {flag} is required")
    if args.action == "generate" and args.file is not None:
        raise ConfigError(f"data: unexpected FILE {args.file!r} (generate writes to --out)")
    return globals()[f"data_{args.action}"](args)


def data_generate(args: argparse.Namespace) -> int:
    from dom2_jax.io import generation
    from dom2_jax.io.medium_replay import replay_for

    env = args.env or DEFAULT_ENV
    if args.omar or args.ogmarl:
        raise ConfigError("data: --omar/--ogmarl need the import or export action")
    levels = levels_for(env) if args.level == "all" else (args.level,)
    for level in levels:
        try:
            # medium-replay: the shipped MATD3 run reruns here, generate itself trains nothing
            replay = replay_for(env, level, args.seed, opponent=args.opponent)
            path, meta = generation.generate(
                env,
                level,
                seed=args.seed,
                size=args.size,
                preset=args.preset,
                out=args.out,
                opponent=args.opponent,
                replay=replay,
            )
        except MissingPolicyError as err:
            if args.level != "all":
                raise
            print(f"[dom2-jax] skipped {env}/{level}: {err}", file=sys.stderr)
            continue
        policy = meta["behaviour_policy"]
        print(
            f"wrote {path}: {meta['level']} {env}, {meta.get('n_transitions')} transitions, "
            f"{meta.get('n_episodes')} episodes, mean return {policy['mean_return']:.2f} "
            f"({meta['return_aggregation']} over agents), {meta['generation_seconds']} s"
        )
    return 0


def vault_parts(vault: str) -> tuple[Path, str, str]:
    """`DIR/NAME/UID` -> (DIR, NAME, UID), flashbax's `rel_dir`, `vault_name`, `vault_uid`."""
    path = Path(vault)
    if len(path.parts) < 2 or not path.name or not path.parent.name:
        raise ConfigError(f"--ogmarl {vault}: expected a vault path DIR/NAME/UID")
    return path.parent.parent, path.parent.name, path.name


def data_import(args: argparse.Namespace) -> int:
    from dom2_jax.io.importers import import_ogmarl_vault, import_omar

    if bool(args.omar) == bool(args.ogmarl):
        raise ConfigError("data import: give one source, --omar DIR or --ogmarl VAULT")
    out = Path(args.out)
    if out.exists():
        raise ConfigError(f"--out {out}: the file exists; remove it or choose another")
    if args.omar:
        dataset, meta = import_omar(args.omar, env_name=args.env)
    else:
        dataset, meta = import_ogmarl_vault(*vault_parts(args.ogmarl))
        meta["env"] = args.env or meta["env"]
    if args.level != "all":
        meta["level"] = args.level
    write_dataset(out, dataset, meta)
    try:
        checked = check_env(out, meta["env"])
    except DatasetError:
        out.unlink()  # refused by the env's checks: leave no unusable file behind
        raise
    print(f"imported {args.omar or args.ogmarl} -> {out} ({checked})")
    print("\n".join(describe(out)[0]))
    return 0


def check_env(path: Path, env_name: str | None) -> str:
    """Read `path` back as `train` would: with the env's sizes and bounds when it is known."""
    if env_name not in registered_names():
        load_dataset(path)
        return f"env {env_name!r} is not registered: sizes and bounds unchecked; --env names one"
    load_dataset(path, env=make(env_name)[0])
    return f"checked against {env_name}'s sizes and bounds"


def data_export(args: argparse.Namespace) -> int:
    from dom2_jax.io.importers import export_ogmarl_vault, import_ogmarl_vault

    meta = read_metadata(args.file)
    env_name = args.env or meta.get("env")
    dataset, meta = load_dataset(
        args.file, env=make(env_name)[0] if env_name in registered_names() else None
    )
    parts = vault_parts(args.ogmarl)
    if (parts[0] / parts[1] / parts[2]).exists():
        raise ConfigError(f"--ogmarl {args.ogmarl}: a vault is already there; choose another UID")
    path = export_ogmarl_vault(dataset, *parts, metadata=meta)
    back, _ = import_ogmarl_vault(*parts)
    if back.n_transitions != dataset.n_transitions:
        raise OSError(f"{path}: read back {back.n_transitions} of {dataset.n_transitions} steps")
    print(f"exported {args.file} -> og-marl vault {path} (read back: {back.n_transitions} steps)")
    print("\n".join(describe(Path(args.file))[0]))
    return 0


def data_info(args: argparse.Namespace) -> int:
    lines, ok = describe(Path(args.file))
    print("\n".join(lines))
    return 0 if ok else 1


def describe(path: Path) -> tuple[list[str], bool]:
    """A short block on the dataset file at `path`, and whether its checksum and schema hold."""
    meta = read_metadata(path)  # a DatasetError unless it is a readable dataset file
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files if k != METADATA_KEY}
    except (zipfile.BadZipFile, EOFError, ValueError, OSError) as err:
        raise DatasetError(str(path), None, f"file is truncated or corrupt ({err})") from err
    stored, actual = meta.get("checksum"), array_checksum(arrays)
    checksum_ok = stored == actual
    try:
        validate(arrays, str(path))
        schema = "valid"
    except DatasetError as err:
        schema = f"INVALID: {err.field or 'file'}: {err.problem}"
    env = meta.get("env")
    obs, acts = arrays.get("obs"), arrays.get("actions")
    shapes = f"obs {list(obs.shape)}, actions {list(acts.shape)}" if obs is not None else "?"
    policy = meta.get("behaviour_policy")
    policy = policy.get("id") if isinstance(policy, dict) else policy
    source = meta.get("source")
    source = source.get("format") if isinstance(source, dict) else "generated"
    lines = [
        f"{path}",
        f"  format    {meta.get('format')} v{meta.get('format_version')}, dom2-jax "
        f"{meta.get('package_version')}, created {meta.get('created')}",
        f"  dataset   {env}, level {meta.get('level')}, seed {meta.get('seed')}; {source}"
        + (f" (behaviour policy: {policy})" if policy else ""),
        f"  size      {meta.get('n_transitions')} transitions, {meta.get('n_episodes')} episodes, "
        f"{meta.get('n_agents')} agents; {shapes}; {path.stat().st_size / 1e6:.2f} MB",
        *return_lines(env, arrays, schema == "valid"),
        "  checksum  "
        + (
            f"valid (sha256 {actual[:16]}...)"
            if checksum_ok
            else f"MISMATCH: the arrays hash to {actual[:16]}..., the metadata says "
            f"{str(stored)[:16]}... (modified or damaged: regenerate it)"
        ),
        f"  schema    {schema}",
    ]
    return lines, checksum_ok and schema == "valid"


def return_lines(env: str | None, arrays: dict[str, np.ndarray], valid: bool) -> list[str]:
    """Episode-return statistics, aggregated over agents as the env does (else summed), and the
    OMAR-normalised score of their mean where the env has OMAR's reference returns."""
    returns = arrays.get("episode_returns")
    if returns is None and valid:
        returns = episode_returns(Dataset.from_arrays(arrays))
    if returns is None or len(returns) == 0:
        return ["  returns   unknown (no episode_returns array and the arrays are invalid)"]
    known = env in registered_names()
    how = reference_returns.return_aggregation(env) if known else "sum"
    team = np.asarray(
        reference_returns.team_return(env, returns) if known else returns.sum(-1), np.float64
    )
    lines = [
        f"  returns   per episode ({how} over agents): {team.mean():.2f} +- {team.std():.2f} "
        f"(min {team.min():.2f}, max {team.max():.2f})"
    ]
    if env in reference_returns.OMAR:
        score = float(reference_returns.normalized_score(env, team.mean()))
        lines.append(f"  score     {score:.1f} (OMAR-normalised, of the mean return)")
    return lines

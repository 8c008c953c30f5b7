"""Command line: `python -m dom2_jax <command>` (the edge: the options of every subcommand here,
their bodies in `dom2_jax.io`: `train_command` for train, `commands` for the others)."""

from __future__ import annotations

import argparse
import importlib
import shlex
import sys

from dom2_jax.assets import POLICY_ROOT
from dom2_jax.config import ALL_LEVELS, PRESETS, algo_configs
from dom2_jax.envs import registered_names

BEHAVIOUR_DOC = (
    "Train MATD3 behaviour policies by OMAR's protocol: expert = the best evaluated snapshot "
    "(with --target-return, the first to reach it), medium = the first whose return reaches the "
    "middle of [random, expert], medium-replay = every transition until then; hyper-parameters, "
    "run length and evaluation sizes default to the env family's preset. Writes "
    "<out>/<env>/<role>.{npz,json} (see dom2_jax.io.policies)."
)
SUPPRESS = argparse.SUPPRESS
DEBUG_HELP = "show the traceback of an expected error (bad file, flag or name), not one line"
# subcommand -> "module:function" in dom2_jax.io, imported when it runs (`--help` stays fast)
COMMANDS = {
    "train": "train_command:train",
    "eval": "commands:evaluate",
    "rollout": "commands:rollout",
    "data": "data_command:data",
    "envs": "commands:envs",
    "behaviour": "commands:behaviour",
}


class Parser(argparse.ArgumentParser):
    """A usage error is one line too, `dom2-jax: error: <command>: <problem>`, exit status 2."""

    def error(self, message: str):
        command = self.prog.partition(" ")[2]  # prog: "dom2_jax train"
        where = f"{command}: " if command else ""
        self.exit(2, f"dom2-jax: error: {where}{message} (see python -m {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="dom2_jax", description=__doc__)
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train DOM2 or a baseline on an offline dataset")
    train.add_argument(
        "--env", default=None, choices=registered_names(), help="default: mpe_spread"
    )
    train.add_argument("--level", default=None, choices=list(ALL_LEVELS), help="default: expert")
    train.add_argument("--algo", default=None, choices=list(algo_configs()), help="default: dom2")
    train.add_argument("--preset", default=None, choices=list(PRESETS), help="default: cpu")
    train.add_argument(
        "--config",
        default=None,
        help="a JSON run config (e.g. experiments/configs/paper/mpe_spread-expert.json) "
        "instead of --env/--level/--algo/--preset",
    )
    train.add_argument("--seeds", type=int, default=1, help="seeds trained in one vmapped program")
    train.add_argument("--seed", type=int, default=0, help="base seed")
    train.add_argument("--updates", type=int, default=None, help="override the preset's updates")
    train.add_argument("--chunk", type=int, default=None, help="updates per compiled chunk")
    train.add_argument(
        "--eval-every",
        type=int,
        default=None,
        help="updates between evaluations, the learning curve's spacing (default: every chunk)",
    )
    train.add_argument(
        "--eval-episodes", type=int, default=None, help="episodes per seed and evaluation"
    )
    train.add_argument(
        "--eval-candidates",
        type=int,
        nargs="+",
        default=None,
        metavar="K",
        help="candidate actions per agent at evaluation, one curve each: 1 = one policy sample; "
        "K > 1 = best of K by softmax over the target critics' min-Q (Diffusion-QL; diffusion "
        "policies only), e.g. --eval-candidates 1 50",
    )
    train.add_argument(
        "--gamma", type=float, default=None, help="override the algorithm's discount"
    )
    train.add_argument(
        "--batch-size", type=int, default=None, help="override the algorithm's batch size"
    )
    train.add_argument("--eta", type=float, default=None, help="override DOM2's Q-term weight")
    train.add_argument(
        "--sweep",
        nargs="+",
        default=None,
        metavar="FIELD_OR_VALUE",
        help="sweep a loss weight in the same vmapped program, e.g. --sweep eta 0.1 0.5 1 2.5 5: "
        "every value trains --seeds seeds (metrics_seed<v * seeds + s>.csv)",
    )
    train.add_argument(
        "--reweight",
        default=None,
        choices=["on", "off"],
        help="trajectory reweighting (default: as the algorithm's paper runs it, on for dom2 "
        "and off for the baselines; or the config file's)",
    )
    train.add_argument(
        "--reweight-rule",
        default=None,
        choices=["authors", "quantile"],
        help="authors (default): each agent's own return, one copy per threshold exceeded; "
        "quantile: our earlier team-return quantile rule",
    )
    train.add_argument(
        "--dataset",
        default=None,
        help="an existing dataset file (default: data/<env>/<level>-...npz, generated on first "
        "use; make others with `python -m dom2_jax data`)",
    )
    train.add_argument(
        "--data-preset",
        default="small",
        choices=["small", "paper"],
        help="size of the dataset generated when --dataset is not given",
    )
    train.add_argument("--data-seed", type=int, default=0)
    train.add_argument("--run-dir", default=None)
    train.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    train.add_argument(
        "--tensorboard",
        action="store_true",
        help="also write the metrics as TensorBoard events to <run-dir>/tensorboard/",
    )
    train.add_argument(
        "--distributed",
        action="store_true",
        help="multi-host: call jax.distributed.initialize() first (Slurm, Open MPI and TPU are "
        "auto-detected; elsewhere pass --coordinator, --num-processes, --process-id) so the "
        "seed axis is sharded over every host's devices",
    )
    train.add_argument("--coordinator", default=None, help="host:port of process 0")
    train.add_argument("--num-processes", type=int, default=None)
    train.add_argument("--process-id", type=int, default=None)
    train.add_argument(
        "--max-chunks",
        type=int,
        default=None,
        help="stop after this many chunks (resume later with --resume)",
    )
    train.add_argument(
        "--run-batch",
        type=int,
        default=None,
        help="train this many seeds side by side (vmapped) and the groups one after another, "
        "in one program (default: all seeds at once). On a CPU whose cores one run already "
        "fills (paper-size networks), 1 or 2 avoids the wider batch's larger working set; "
        "results equal to float32 rounding",
    )
    evaluate = sub.add_parser("eval", help="evaluate a trained run's checkpoint (every seed)")
    evaluate.add_argument("run_dir", help="a run directory written by `train`")
    evaluate.add_argument("--step", type=int, default=None, help="default: the last checkpoint")
    evaluate.add_argument("--episodes", type=int, default=10, help="episodes per seed")
    evaluate.add_argument(
        "--candidates",
        type=int,
        nargs="+",
        default=[1],
        metavar="K",
        help="candidate actions per agent, one evaluation each: 1 = one policy sample; K > 1 = "
        "best of K by the target critics (diffusion policies only), e.g. --candidates 1 50",
    )
    evaluate.add_argument(
        "--shifts",
        nargs="+",
        default=None,
        metavar="NAME",
        help="also evaluate under env shifts: `all` or shift names (default: unshifted only)",
    )
    evaluate.add_argument("--seed", type=int, default=0, help="evaluation key seed")
    evaluate.add_argument("--out", default=None, help="JSON output (default: <run_dir>/eval.json)")
    rollout = sub.add_parser("rollout", help="vmapped random-policy episodes of an env")
    rollout.add_argument("--env", default="mpe_spread", choices=registered_names())
    rollout.add_argument("--seed", type=int, default=0)
    rollout.add_argument("--num-envs", type=int, default=1024, help="parallel episodes")
    data = sub.add_parser(
        "data", help="generate (a level, or all of an env's), import, export or inspect a dataset"
    )
    data.add_argument(
        "action",
        nargs="?",
        default="generate",
        choices=["generate", "import", "export", "info"],
        help="generate (default); import --omar DIR | --ogmarl VAULT --out FILE; "
        "export FILE --ogmarl VAULT; info FILE (metadata, sizes, returns, checksum)",
    )
    data.add_argument("file", nargs="?", help="export, info: the dataset file")
    data.add_argument("--omar", metavar="DIR", help="import: an OMAR .../seed_<k>_data folder")
    data.add_argument("--ogmarl", metavar="VAULT", help="an og-marl flashbax vault DIR/NAME/UID")
    data.add_argument(
        "--env",
        default=None,
        choices=registered_names(),
        help="default: mpe_spread (import: the env the OMAR path or vault name says)",
    )
    data.add_argument("--level", default="all", choices=["all", *ALL_LEVELS])
    data.add_argument("--seed", type=int, default=0)
    data.add_argument(
        "--opponent",
        default="calibrated",
        choices=["calibrated", "co-trained"],
        help="tag/world: the calibrated prey (default) or the co-trained MATD3 prey and its "
        "policies, which made the datasets before issue 14",
    )
    data.add_argument("--size", type=int, default=None, help="transitions (default: the preset's)")
    data.add_argument(
        "--preset",
        default="paper",
        choices=["paper", "small"],
        help="paper: 1M transitions (medium-replay: the whole buffer until the medium policy); "
        "small: 50k",
    )
    data.add_argument(
        "--out",
        default=None,
        help="file (default data/<env>/<level>-seed<k>-<preset>.npz, where train looks for it; "
        "with --size: <level>-seed<k>.npz); import: the file to write",
    )
    sub.add_parser("envs", help="list the registered environments and their shapes")
    behaviour = sub.add_parser(
        "behaviour",
        help="train an env's MATD3 behaviour policies (expert, medium; tag/world: the prey)",
        description=BEHAVIOUR_DOC,
    )
    behaviour.add_argument("--env", required=True, choices=registered_names())
    behaviour.add_argument("--seed", type=int, default=0)
    behaviour.add_argument(
        "--out", default=str(POLICY_ROOT), help="root folder: <out>/<env>/<role>.npz"
    )
    behaviour.add_argument(
        "--max-env-steps", type=int, default=None, help="default: the env's preset"
    )
    behaviour.add_argument("--target-return", type=float, default=None)
    behaviour.add_argument(
        "--medium-rule",
        default="first",
        choices=("first", "closest"),
        help="medium snapshot: the first to reach the middle of [random, expert], or the "
        "closest to it up to that one",
    )
    behaviour.add_argument(
        "--opponent",
        default="calibrated",
        choices=("calibrated", "co-trained"),
        help="tag/world: the env's calibrated scripted prey (default) or the co-trained MATD3 prey",
    )
    behaviour.add_argument("--prey-env-steps", type=int, default=1_000_000)
    behaviour.add_argument(
        "--prey-only", action="store_true", help="tag/world: only (re)train the prey"
    )
    behaviour.add_argument(
        "--retrain-prey", action="store_true", help="tag/world: ignore a saved prey"
    )
    behaviour.add_argument(
        "--replay-out", default=None, help="also write the medium-replay arrays (.npz)"
    )
    behaviour.add_argument(
        "--keep-replay", type=int, default=1_000_000, help="transitions kept for medium-replay"
    )
    behaviour.add_argument(
        "--set", nargs="*", default=[], metavar="FIELD=VALUE", help="MATD3Config fields"
    )
    behaviour.add_argument(
        "--eval-episodes", type=int, default=None, help="per snapshot; default: preset"
    )
    behaviour.add_argument(
        "--final-eval-episodes", type=int, default=None, help="recorded returns; default: preset"
    )
    behaviour.add_argument("--no-progress", action="store_true")
    for command in sub.choices.values():  # `--debug` after the subcommand too (SUPPRESS: a
        # subcommand's default would overwrite the flag given before it)
        command.add_argument("--debug", action="store_true", default=SUPPRESS, help=DEBUG_HELP)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    # recorded in the behaviour policies' sidecars: the command that regenerates them
    args.command_line = "python -m dom2_jax " + " ".join(shlex.quote(a) for a in argv)
    from dom2_jax.io import console

    console.quiet_library_noise()  # before anything imports brax
    module, _, function = COMMANDS[args.command].partition(":")
    try:
        return getattr(importlib.import_module(f"dom2_jax.io.{module}"), function)(args)
    except console.EXPECTED as err:  # the user's input: one line, exit status 2
        if args.debug:
            raise
        return console.report(err)

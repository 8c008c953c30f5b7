"""`python -m dom2_jax`: multi-host setup first, then the CLI.

`jax.distributed.initialize` must run before anything touches the XLA backend, and a module
that builds an array at import (jumanji does) starts it, so `--distributed` is handled here,
before the CLI module and its imports.
"""

import argparse
import sys


def initialize_distributed(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--distributed", action="store_true")
    parser.add_argument("--coordinator", default=None)
    parser.add_argument("--num-processes", type=int, default=None)
    parser.add_argument("--process-id", type=int, default=None)
    args, _ = parser.parse_known_args(argv)
    if args.distributed:
        import jax

        # A multi-process CPU program loaded from the persistent compilation cache never joins
        # its Gloo collectives (the all-gather of the results times out after 30 s; seen with
        # jax 0.10.2 whenever a second run found the first one's programs cached), so
        # multi-host runs compile afresh.
        jax.config.update("jax_enable_compilation_cache", False)
        jax.distributed.initialize(
            coordinator_address=args.coordinator,
            num_processes=args.num_processes,
            process_id=args.process_id,
        )


if __name__ == "__main__":
    initialize_distributed(sys.argv[1:])
    from dom2_jax.cli import main

    raise SystemExit(main())

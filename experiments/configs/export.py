"""Write the DOM2 run configs of every env x dataset level as JSON, one file per preset.

    python -m experiments.configs.export            # rewrites experiments/configs/{paper,cpu}/

The files are the `paper` and `cpu` run presets of `dom2_jax.config.preset` (OMAR's CQL weight
per task and level filled in), exported so they can be read, diffed and edited; train one with
`python -m dom2_jax train --config experiments/configs/cpu/mpe_spread-expert.json`.
`tests/test_config.py` checks the files still equal the presets.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from dom2_jax.config import LEVELS, OMAR_ENVS, preset, to_dict

ENVS = OMAR_ENVS
PRESET_NAMES = ("paper", "cpu")
ROOT = Path(__file__).resolve().parent


def config_files() -> dict[Path, str]:
    """Relative path -> file text for every (preset, env, level)."""
    out = {}
    for name in PRESET_NAMES:
        for env in ENVS:
            for level in LEVELS:
                text = json.dumps(to_dict(preset(name, env, level)), indent=2) + "\n"
                out[Path(name) / f"{env}-{level}.json"] = text
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT))
    args = parser.parse_args(argv)
    for rel, text in config_files().items():
        path = Path(args.out) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    print(f"wrote {len(config_files())} configs under {args.out}")


if __name__ == "__main__":
    main()

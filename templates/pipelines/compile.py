"""Compile the pipeline for one environment:
`python -m pipelines.compile --output build/pipeline.yaml [--env ENV] [--image-tag TAG]
[--trainer-image-file PATH]`.
Offline: reads config/<env>.yaml, needs no cloud access."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipelines import config, tracking


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.compile", description=__doc__)
    parser.add_argument("--output", required=True, type=Path, help="pipeline spec YAML to write")
    parser.add_argument("--env", help="environment (default: the first in promotion order)")
    parser.add_argument("--image-tag", default="latest",
                        help="tag of the custom trainer image (CI passes the commit SHA)")
    parser.add_argument("--trainer-image-file", type=Path,
                        help="also write the trainer image reference the spec uses to this file, "
                             "or nothing when AutoML trains (CI builds and pushes that image)")
    args = parser.parse_args(argv)
    try:
        cfg = config.load(args.env)
    except config.ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from kfp import compiler

    from pipelines.pipeline import build

    args.output.parent.mkdir(parents=True, exist_ok=True)
    if args.trainer_image_file is not None:
        image = "" if cfg.features.automl else cfg.image(tracking.TRAINER_IMAGE, args.image_tag)
        args.trainer_image_file.write_text(image)
    compiler.Compiler().compile(build(cfg, image_tag=args.image_tag), str(args.output))
    print(f"compiled {cfg.environment} pipeline ({'automl' if cfg.features.automl else 'custom'}"
          f" training, deploy={'on' if cfg.features.model_deployment else 'off'}) -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

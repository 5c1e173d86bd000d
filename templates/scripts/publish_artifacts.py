"""Upload a run's build outputs to gs://<pipeline_root bucket>/runs/<commit>/build/ of the
environment in config/<env>.yaml (where the rollback looks for them).

    python scripts/publish_artifacts.py --env dev --commit SHA [--source build] [--dry-run]

Prints the gs:// prefix. Re-running overwrites the same objects (idempotent).
"""

from __future__ import annotations

import argparse
import mimetypes
import sys
from pathlib import Path

import envconfig
from gcpapi import Gcp, GcpError
from ghapi import log


def object_names(source: Path, prefix: str) -> list[tuple[Path, str]]:
    """(file, object name under `prefix`) for every file under `source` (pure, sorted)."""
    return [(p, f"{prefix}build/{p.relative_to(source).as_posix()}")
            for p in sorted(source.rglob("*")) if p.is_file()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True)
    parser.add_argument("--commit", required=True)
    parser.add_argument("--source", type=Path, default=Path("build"))
    parser.add_argument("--config-dir", type=Path, default=envconfig.CONFIG_DIR)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    try:
        cfg = envconfig.load(args.env, args.config_dir)
        bucket = cfg["buckets"]["pipeline_root"]
        prefix = envconfig.run_prefix(cfg, args.commit)
        gcp = Gcp(cfg["region"], dry_run=args.dry_run)
        for path, name in object_names(args.source, prefix):
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            gcp.upload(bucket, name, path.read_bytes(), kind)
            log(f"uploaded gs://{bucket}/{name}")
    except (envconfig.ConfigError, GcpError, RuntimeError, OSError) as err:
        log(f"error: {err}")
        return 1
    print(f"gs://{bucket}/{prefix}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

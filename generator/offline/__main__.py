"""`python -m generator.offline plugin NAME` (launched by Terraform) or `serve [NAME...]`."""

from __future__ import annotations

import sys

from generator.offline import schema


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    usage = "usage: python -m generator.offline plugin NAME | serve [NAME...]"
    if not args or args[0] not in ("plugin", "serve"):
        print(usage, file=sys.stderr)
        return 2
    from generator.offline import server  # grpc import only when serving

    if args[0] == "plugin":
        if len(args) != 2 or args[1] not in schema.ADDRESSES:
            print(f"{usage}\nNAME is one of: {', '.join(schema.ADDRESSES)}", file=sys.stderr)
            return 2
        return server.run_plugin(args[1])
    names = args[1:] or list(schema.ADDRESSES)
    unknown = [n for n in names if n not in schema.ADDRESSES]
    if unknown:
        print(f"unknown provider(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    return server.serve_reattach(names)


if __name__ == "__main__":
    sys.exit(main())

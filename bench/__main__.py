"""Run every benchmark module in bench/, or only those named: `python -m bench registry photos`."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main(names: list[str]) -> None:
    modules = pkgutil.iter_modules([str(Path(__file__).parent)])
    available = sorted(module.name for module in modules if not module.name.startswith("_"))
    for name in names or available:
        if name not in available:
            raise SystemExit(f"no benchmark named {name!r}; have: {', '.join(available)}")
        print(f"== bench/{name}.py  (python -m bench {name})", flush=True)
        importlib.import_module(f"bench.{name}").main()


if __name__ == "__main__":
    main(sys.argv[1:])

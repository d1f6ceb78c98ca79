"""Run the benchmarks: ``python -m benchmarks [name ...]`` (default: all)."""

import importlib
import pkgutil
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    names = sorted(
        info.name
        for info in pkgutil.iter_modules([str(Path(__file__).parent)])
        if info.name.startswith("bench_")
    )
    wanted = [f"bench_{name.removeprefix('bench_')}" for name in argv] or names
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; have: {', '.join(names)}")
        return 2
    for name in wanted:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"\n## {name.removeprefix('bench_')}\n")
        started = time.monotonic()
        module.run()
        print(f"\n({name} took {time.monotonic() - started:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

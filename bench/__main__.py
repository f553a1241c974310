"""Run every benchmark module in this package (`python -m bench`)."""

import importlib
import pkgutil
from pathlib import Path


def main() -> None:
    """Import each `bench/<name>.py` and call its `main()`."""
    for module in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
        if module.name.startswith("_"):
            continue
        print(f"== {module.name}")
        importlib.import_module(f"bench.{module.name}").main()


if __name__ == "__main__":
    main()

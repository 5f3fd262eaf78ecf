"""N requests of bench.py's Starlette app, for callgrind (instruction counts are
repeatable on a shared machine; CPU time is not).

    valgrind --tool=callgrind python bindings-python/bench/asgi_loop.py KIND N

KIND is ``none``, ``sessile``, ``starlette`` or ``dict`` (bench.py's apps, its requests:
read, modify, write with a valid cookie). Per request: the totals of a run of 6,000 minus
one of 1,000, divided by 5,000 (start-up and warm-up cancel out); run with
``PYTHONHASHSEED=0`` so both runs hash alike.
"""

from __future__ import annotations

import sys

import bench  # this script's directory, first on the path


def main() -> int:
    kind, n = sys.argv[1], int(sys.argv[2])
    run = bench.asgi_runner(bench.starlette_app(kind))
    run(200)  # warm up
    run(n)
    return 0


if __name__ == "__main__":
    sys.exit(main())

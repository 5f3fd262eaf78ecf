"""Print N session tokens from the Python binding (0 = until stdout closes), one per line.

Run with the interpreter of the environment where the ``sessile`` package is installed.
"""

import os
import sys

import sessile


def main() -> int:
    n = int(sys.argv[1])
    engine = sessile.Engine(capacity=1024)  # most creates evict: constant memory
    out = sys.stdout
    batch = []
    i = 0
    try:
        while n == 0 or i < n:
            token, _ = engine.create()
            batch.append(token)
            i += 1
            if len(batch) == 4096:
                out.write("\n".join(batch) + "\n")
                batch.clear()
        if batch:
            out.write("\n".join(batch) + "\n")
        out.flush()
    except BrokenPipeError:
        # The reader (dieharder) has what it needs.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())

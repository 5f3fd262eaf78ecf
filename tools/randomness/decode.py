"""Turn base64url session tokens (one per line, on stdin) into their raw bytes (stdout).

Every line must be a canonical unpadded base64url token of the same length; anything else
stops the stream with an error, so a broken generator cannot pass as random data.
"""

import base64
import binascii
import sys


def decode_line(line: bytes) -> bytes:
    text = line.rstrip(b"\n")
    if not text or len(text) % 4 == 1:
        raise ValueError(f"not a token: {text[:60]!r}")
    raw = base64.urlsafe_b64decode(text + b"=" * (-len(text) % 4))
    if base64.urlsafe_b64encode(raw).rstrip(b"=") != text:
        raise ValueError(f"not canonical base64url: {text[:60]!r}")
    return raw


def main() -> int:
    inp = sys.stdin.buffer
    out = sys.stdout.buffer
    width = None
    rest = b""
    n = 0
    try:
        while True:
            chunk = inp.read(1 << 20)
            if not chunk:
                break
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            raws = []
            for line in lines:
                n += 1
                try:
                    raw = decode_line(line)
                except (ValueError, binascii.Error) as e:
                    print(f"decode.py: line {n}: {e}", file=sys.stderr)
                    return 1
                if width is None:
                    width = len(raw)
                elif len(raw) != width:
                    print(
                        f"decode.py: line {n}: {len(raw)} bytes, expected {width}",
                        file=sys.stderr,
                    )
                    return 1
                raws.append(raw)
            out.write(b"".join(raws))
        if rest:
            print(
                "decode.py: last line has no newline (truncated output?)",
                file=sys.stderr,
            )
            return 1
        out.flush()
    except BrokenPipeError:
        pass  # the reader (dieharder) has what it needs
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Statistical checks of session IDs drawn through each binding.

For each binding: draw at least --mib MiB of tokens, decode them to raw bytes, then
  * ent:       entropy per byte > 7.999 bits and |serial correlation| < 0.005;
  * rngtest:   FIPS 140-2 failures on the tokens within what /dev/urandom gives on the same
               amount, run beside it: failures <= b + 4 * sqrt(b + 1), four standard
               deviations of a Poisson count, where b = max(urandom failures, 0.08 % of the
               blocks, the rate of an ideal source);
  * dieharder: a subset of tests (-g 200: raw bytes on stdin, fed live from the generator),
               none FAILED (WEAK, p outside [0.005, 0.995], is expected
               about once per hundred results and is not a failure);
  * no token appears twice, and every token is canonical base64url.
Prints a figures table and PASS/FAIL per check, writes them to --doc, exits 1 on any FAIL.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from decode import decode_line

ENTROPY_MIN = 7.999
SERIAL_MAX = 0.005
FIPS_RATE = 0.0008  # FIPS 140-2 failures per 20,000-bit block from an ideal source


class Unusable(Exception):
    pass


def run_ent(path: Path) -> dict:
    out = subprocess.run(
        ["ent", "-t", str(path)], check=True, capture_output=True, text=True
    ).stdout
    # 0,File-bytes,Entropy,Chi-square,Mean,Monte-Carlo-Pi,Serial-Correlation
    row = out.strip().splitlines()[-1].split(",")
    return {
        "bytes": int(row[1]),
        "entropy": float(row[2]),
        "chi2": float(row[3]),
        "mean": float(row[4]),
        "pi": float(row[5]),
        "serial": float(row[6]),
    }


def run_rngtest(path: Path) -> tuple[int, int]:
    with open(path, "rb") as f:
        p = subprocess.run(
            ["rngtest"], stdin=f, capture_output=True, text=True, check=False
        )
    # rngtest exits non-zero when any block failed; the counts are what matter.
    ok = re.search(r"FIPS 140-2 successes: (\d+)", p.stderr)
    bad = re.search(r"FIPS 140-2 failures: (\d+)", p.stderr)
    if not ok or not bad:
        raise RuntimeError(f"rngtest gave no counts: {p.stderr[-500:]}")
    return int(ok.group(1)), int(bad.group(1))


def draw(cmd: list[str], count: int, path: Path) -> tuple[int, int, float]:
    """Draw `count` tokens into `path` as raw bytes; returns (token bytes, duplicates, seconds)."""
    start = time.monotonic()
    p = subprocess.Popen(
        cmd + [str(count)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    seen: set[bytes] = set()
    width = None
    n = 0
    with open(path, "wb") as out:
        assert p.stdout is not None
        for line in p.stdout:
            raw = decode_line(line)
            if width is None:
                width = len(raw)
            elif len(raw) != width:
                raise RuntimeError(f"token of {len(raw)} bytes after tokens of {width}")
            seen.add(hashlib.blake2b(raw, digest_size=16).digest())
            out.write(raw)
            n += 1
    err = p.stderr.read().decode(errors="replace") if p.stderr else ""
    if p.wait() != 0 or n != count:
        raise Unusable(
            f"generator exited {p.returncode} after {n} of {count} tokens: {err.strip()[-400:]}"
        )
    return width or 0, n - len(seen), time.monotonic() - start


def run_dieharder(
    cmd: list[str], tests: list[int], psamples: int
) -> list[tuple[str, str, str]]:
    """Each test fed live: generator | decode.py | dieharder -g 200. Returns (test, p, verdict)."""
    results = []
    for d in tests:
        gen_err = tempfile.TemporaryFile()  # noqa: SIM115 (closed below, after the pipeline)
        gen = subprocess.Popen(cmd + ["0"], stdout=subprocess.PIPE, stderr=gen_err)
        dec = subprocess.Popen(
            [sys.executable, str(HERE / "decode.py")],
            stdin=gen.stdout,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert gen.stdout is not None
        gen.stdout.close()
        die = subprocess.run(
            ["dieharder", "-g", "200", "-d", str(d), "-p", str(psamples)],
            stdin=dec.stdout,
            capture_output=True,
            text=True,
            check=False,
        )
        assert dec.stdout is not None
        dec.stdout.close()
        for proc in (dec, gen):
            proc.terminate()
            proc.wait()
        rows = [
            line
            for line in die.stdout.splitlines()
            if re.search(r"\|\s*(PASSED|WEAK|FAILED)\s*$", line)
        ]
        if not rows:
            gen_err.seek(0)
            why = (
                gen_err.read().decode(errors="replace").strip()
                or die.stderr.strip()
                or "no result"
            )
            results.append((f"-d {d}", "-", f"ERROR ({why.splitlines()[-1][:120]})"))
        gen_err.close()
        for line in rows:
            cells = [c.strip() for c in line.split("|")]
            name = cells[0] + (f"[{cells[1]}]" if cells[1] not in ("", "0") else "")
            results.append((name, cells[4], cells[5]))
    return results


def version_check(root: Path) -> None:
    want = re.search(
        r'^\[workspace\.package\][^\[]*?^version = "([^"]+)"',
        (root / "Cargo.toml").read_text(),
        re.MULTILINE | re.DOTALL,
    )
    have = re.search(
        r'^version = "([^"]+)"',
        (HERE / "gen-rust" / "Cargo.toml").read_text(),
        re.MULTILINE,
    )
    if not want or not have or want.group(1) != have.group(1):
        sys.exit(
            "tools/randomness/gen-rust/Cargo.toml version differs from [workspace.package] version"
        )


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--mib",
        type=float,
        default=10.0,
        help="MiB of token bytes per binding (default 10)",
    )
    ap.add_argument(
        "--dieharder-tests", default="0,8,10,11,100", help="dieharder -d numbers"
    )
    ap.add_argument(
        "--psamples", type=int, default=30, help="dieharder -p (default 30)"
    )
    ap.add_argument("--doc", type=Path, help="write the figures to this Markdown file")
    ap.add_argument(
        "--gen",
        action="append",
        default=[],
        metavar="NAME=COMMAND",
        help="a binding's generator: COMMAND N prints N tokens (0 = endless); repeatable",
    )
    args = ap.parse_args()
    root = HERE.parent.parent
    version_check(root)
    tests = [int(t) for t in args.dieharder_tests.split(",") if t]
    nbytes = int(args.mib * 1024 * 1024)
    gens = []
    for g in args.gen:
        name, _, cmd = g.partition("=")
        gens.append((name, cmd.split()))

    figures = []  # (binding, dict)
    checks = []  # (binding, check, figure, verdict)
    with tempfile.TemporaryDirectory(prefix="sessile-randomness-") as tmp:
        for name, cmd in gens:
            print(f"== {name}: {' '.join(cmd)}", flush=True)
            try:
                probe = subprocess.run(
                    cmd + ["3"], check=False, capture_output=True, timeout=120
                )
                lines = probe.stdout.splitlines()
                if probe.returncode != 0 or len(lines) != 3:
                    raise Unusable(
                        (probe.stderr.decode(errors="replace").strip() or "no output")[
                            -400:
                        ]
                    )
                width = len(decode_line(lines[0]))
                count = math.ceil(nbytes / width)
                path = Path(tmp) / f"{name}.bin"
                width, dups, took = draw(cmd, count, path)
            except (Unusable, OSError, ValueError, subprocess.TimeoutExpired) as e:
                print(f"   not usable: {e}", flush=True)
                checks.append(
                    (name, "binding usable", str(e).splitlines()[-1][:80], "FAIL")
                )
                continue
            size = path.stat().st_size
            ent = run_ent(path)
            ok, bad = run_rngtest(path)
            upath = Path(tmp) / "urandom.bin"
            with open("/dev/urandom", "rb") as src, open(upath, "wb") as dst:
                dst.write(src.read(size))
            uok, ubad = run_rngtest(upath)
            uent = run_ent(upath)
            upath.unlink()
            path.unlink()
            print(
                f"   {count} tokens, {size} bytes in {took:.1f} s; dieharder {tests} ...",
                flush=True,
            )
            t0 = time.monotonic()
            die = run_dieharder(cmd, tests, args.psamples)
            dtook = time.monotonic() - t0
            figures.append(
                (
                    name,
                    {
                        "tokens": count,
                        "token_bytes": width,
                        "bytes": size,
                        "rate": count / took,
                        "entropy": ent["entropy"],
                        "serial": ent["serial"],
                        "chi2": ent["chi2"],
                        "mean": ent["mean"],
                        "pi": ent["pi"],
                        "u_entropy": uent["entropy"],
                        "u_serial": uent["serial"],
                        "fips": (ok, bad),
                        "u_fips": (uok, ubad),
                        "dieharder": die,
                        "dieharder_s": dtook,
                    },
                )
            )
            # A perfect generator fails about 0.08 % of FIPS blocks; one urandom sample can
            # show fewer by chance, so the baseline is never below that rate.
            baseline = max(ubad, FIPS_RATE * (uok + ubad))
            limit = baseline + 4 * math.sqrt(baseline + 1)
            checks += [
                (
                    name,
                    "tokens distinct",
                    f"{dups} repeated of {count}",
                    "PASS" if dups == 0 else "FAIL",
                ),
                (
                    name,
                    f"ent entropy > {ENTROPY_MIN}",
                    f"{ent['entropy']:.6f} bits/byte",
                    "PASS" if ent["entropy"] > ENTROPY_MIN else "FAIL",
                ),
                (
                    name,
                    f"ent abs(serial corr.) < {SERIAL_MAX}",
                    f"{ent['serial']:+.6f}",
                    "PASS" if abs(ent["serial"]) < SERIAL_MAX else "FAIL",
                ),
                (
                    name,
                    "rngtest FIPS 140-2 vs urandom",
                    f"{bad} of {ok + bad} blocks failed (urandom {ubad}; limit {limit:.1f})",
                    "PASS" if bad <= limit else "FAIL",
                ),
            ]
            for test, p, verdict in die:
                checks.append(
                    (
                        name,
                        f"dieharder {test}",
                        f"p = {p} ({verdict})",
                        "PASS" if verdict in ("PASSED", "WEAK") else "FAIL",
                    )
                )

    failed = [c for c in checks if c[3] != "PASS"]
    report = render(figures, checks, args, tests)
    print()
    print(report)
    if args.doc:
        write_doc(args.doc, report, args, tests)
        print(f"(written to {args.doc})")
    print(
        f"randomness: {'FAIL' if failed else 'PASS'} ({len(checks) - len(failed)} of {len(checks)} checks passed)"
    )
    return 1 if failed else 0


def render(figures, checks, args, tests) -> str:
    out = []
    out.append(
        "| binding | tokens | bytes | tokens/s | entropy (bits/byte) | serial corr. | chi-square | mean "
        "| Monte Carlo pi | FIPS 140-2 failures / blocks | urandom: FIPS failures, entropy, serial | dieharder |"
    )
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for name, f in figures:
        die_ok = sum(1 for d in f["dieharder"] if d[2] in ("PASSED", "WEAK"))
        out.append(
            f"| {name} | {f['tokens']} x {f['token_bytes']} B | {f['bytes']} | {f['rate']:,.0f} "
            f"| {f['entropy']:.6f} | {f['serial']:+.6f} | {f['chi2']:.2f} | {f['mean']:.4f} | {f['pi']:.6f} "
            f"| {f['fips'][1]} / {sum(f['fips'])} | {f['u_fips'][1]}, {f['u_entropy']:.6f}, {f['u_serial']:+.6f} "
            f"| {die_ok}/{len(f['dieharder'])} passed in {f['dieharder_s']:.0f} s |"
        )
    out.append("")
    out.append("| binding | check | figure | result |")
    out.append("|---|---|---|---|")
    for name, check, fig, verdict in checks:
        out.append(f"| {name} | {check} | {fig} | {verdict} |")
    return "\n".join(out)


def write_doc(path: Path, report: str, args, tests) -> None:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    tools = []
    for pkg in ("ent", "rng-tools5", "dieharder"):
        v = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", pkg],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        tools.append(f"{pkg} {v or '?'}")
    text = f"""# Randomness of session IDs

Session IDs are the one secret a session engine hands out; ARCHITECTURE.md promises at least
128 bits from a ChaCha20 CSPRNG seeded by the operating system. These figures check what
actually comes out of each binding, the way an application gets it (`create`, token text
decoded back to raw bytes). Statistical tests cannot prove unpredictability (a CSPRNG is
designed to pass them); they catch the mistakes that matter in practice: a constant or
reused seed, a truncated or biased encoding, a counter where randomness should be.

Regenerate with `make randomness` (installs the Debian packages ent, rng-tools5 and
dieharder when missing; `RANDOMNESS_MIB=...` changes the amount, default 10 MiB per binding).
It exits non-zero when any check fails.

## Checks

- **ent**: Shannon entropy per byte above {ENTROPY_MIN} bits and serial correlation between
  successive bytes below {SERIAL_MAX} in absolute value.
- **rngtest** (FIPS 140-2 monobit, poker, runs, long run, continuous run on 20,000-bit
  blocks): failures on the tokens at most what /dev/urandom shows on the same number of
  bytes, run beside it, plus four standard deviations of a Poisson count: `b + 4 * sqrt(b + 1)`
  where `b` is the urandom count, or 0.08 % of the blocks (the rate of an ideal source, about
  1 block in 1,250) when urandom happened to fail fewer.
- **dieharder** subset (`-d {",".join(str(t) for t in tests)}`, `-p {args.psamples}`), fed live
  from the binding's generator through `dieharder -g 200` (raw bytes on stdin): no FAILED
  result (p below 0.000001 or above 0.999999). WEAK (p outside 0.005..0.995) is expected
  about once in a hundred results from a perfect generator and does not fail the check.
- Every token is canonical unpadded base64url and none repeats.

## Figures

Measured {now} on {platform.machine()} ({os.cpu_count()} CPUs, shared), {", ".join(tools)}.

{report}

## Generators

One per binding in `tools/randomness/`, each printing N tokens (0 = until the reader stops):
`gen-rust` (the core's `SharedEngine`, as every binding uses it), `gen_python.py` (the
`sessile` package in the repo's virtualenv), `gen_node.js` (`require` of bindings-node) and
`gen_c.c` (a C program linked to `libsessile.a`). Each engine has a 1,024-session table, so
most creates evict an older anonymous session and memory stays constant for any N.
"""
    path.write_text(text)


if __name__ == "__main__":
    sys.exit(main())

"""Many threads on one Engine; forked children never repeat IDs."""

from __future__ import annotations

import os
import threading

import sessile

THREADS = 8
ROUNDS = 300


def test_threads_share_one_engine() -> None:
    # Each thread's user keeps all its sessions: no per-principal cap (0 = unlimited).
    engine = sessile.Engine(capacity=THREADS * ROUNDS + 16, max_sessions_per_principal=0)
    tokens: list[list[str]] = [[] for _ in range(THREADS)]
    errors: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def work(i: int) -> None:
        try:
            start.wait()
            for r in range(ROUNDS):
                token, s = engine.create()
                engine.write_json(s.handle, {"thread": i, "round": r})
                token, s = engine.login(token, f"user{i}")
                assert engine.validate(token).principal == f"user{i}"
                assert engine.read_json(s.handle) == {"thread": i, "round": r}
                tokens[i].append(token)
                if r % 50 == 0:
                    engine.sweep()
                    engine.drain_events()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    every = [t for ts in tokens for t in ts]
    assert len(every) == len(set(every)) == THREADS * ROUNDS
    assert engine.stats().authenticated == THREADS * ROUNDS
    for i in range(THREADS):
        assert len(engine.sessions_of(f"user{i}")) == ROUNDS


def test_forked_children_never_repeat_ids() -> None:
    # A fixed seed makes the parent's stream known, so a child continuing it would show.
    engine = sessile.Engine(capacity=256, seed=b"\x07" * 32)
    engine.create()
    children = 4
    per_child = 20
    pipes = []
    for _ in range(children):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: issue IDs, report them, exit without running pytest's teardown
            try:
                os.close(r)
                ids = [engine.create()[0] for _ in range(per_child)]
                os.write(w, "\n".join(ids).encode())
            finally:
                os._exit(0)
        os.close(w)
        pipes.append((pid, r))
    parent_ids = [engine.create()[0] for _ in range(per_child)]
    seen = set(parent_ids)
    for pid, r in pipes:
        chunks = []
        while chunk := os.read(r, 65536):
            chunks.append(chunk)
        os.close(r)
        _, status = os.waitpid(pid, 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        ids = b"".join(chunks).decode().split("\n")
        assert len(ids) == per_child
        assert seen.isdisjoint(ids), "a child repeated an ID of the parent or of a sibling"
        seen.update(ids)
    assert len(seen) == per_child * (children + 1)
    # The parent itself keeps its (seeded) stream: same as a twin engine that never forked.
    twin = sessile.Engine(capacity=256, seed=b"\x07" * 32)
    twin_ids = [twin.create()[0] for _ in range(per_child + 1)][1:]
    assert twin_ids == parent_ids


def test_clock_may_call_back_into_the_engine() -> None:
    # The clock runs before the engine's lock is taken, so it can use the engine itself
    # (no deadlock, no re-entrant locking).
    box: list[sessile.Engine] = []
    ticks = [0.0]

    def clock() -> float:
        if box:
            box[0].stats()
        ticks[0] += 0.001
        return ticks[0]

    engine = sessile.Engine(capacity=8, clock=clock)
    box.append(engine)
    token, _ = engine.create()
    assert engine.validate(token).last_seen == engine.now() - 0.001

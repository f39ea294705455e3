#!/usr/bin/env python3
"""The peer for bench_ipc's shared-dict lines: multiprocessing's Manager().dict() updated from two
processes, as the lesson does it. Prints "one_key <adds/s>" and "distinct_keys <adds/s>".

One key needs a Manager lock around d[k] = d.get(k, 0) + 1, or concurrent adds are lost; distinct
keys (each process its own, like the lesson's per-pid counter) need none. Fewer adds than the C
side: the rate is what is compared, and a Manager round trip costs about a tenth of a millisecond.
"""
import multiprocessing as mp
import time

ADDS = 1500  # per process


def worker(d, lock, go, key):
    go.wait()
    if lock is not None:
        for _ in range(ADDS):
            with lock:
                d[key] = d.get(key, 0) + 1
    else:
        for _ in range(ADDS):
            d[key] = d.get(key, 0) + 1


def run(manager, shared_key):
    d = manager.dict()
    lock = manager.Lock() if shared_key else None
    go = mp.Event()
    procs = [mp.Process(target=worker,
                        args=(d, lock, go, "shared" if shared_key else "k%d" % i))
             for i in range(2)]
    for p in procs:
        p.start()
    time.sleep(0.2)  # let both reach go.wait(): start-up is not timed
    t = time.perf_counter()
    go.set()
    for p in procs:
        p.join()
    rate = 2 * ADDS / (time.perf_counter() - t)
    total = sum(d.values())
    if total != 2 * ADDS:
        raise SystemExit("lost updates: %d of %d" % (total, 2 * ADDS))
    return rate


def main():
    with mp.Manager() as manager:
        print("one_key %.1f" % run(manager, True), flush=True)
        print("distinct_keys %.1f" % run(manager, False), flush=True)


if __name__ == "__main__":
    main()

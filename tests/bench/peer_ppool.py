#!/usr/bin/env python3
"""The peer for bench_ppool: multiprocessing.Pool.map on the same three cases, as the lesson
writes it. One case per run, chosen by the first argument; each prints "name value" lines.

  sleep N P     N items that each sleep 5 ms on P processes; the whole `with Pool(P)` block,
                start and shutdown included, as the seed times it: "seconds S"
  square N P    N tiny items (x*x) on a pool of P already started, automatic chunking, best of
                three maps: "items_per_s R"
  cpu N         N items of a pure-Python loop calibrated to about 0.2 ms, on pools of 1 and 2
                processes (started beforehand), best of three maps each:
                "t1 S", "t2 S", "items_per_s_2p R"
"""
import multiprocessing as mp
import sys
import time


def wait5(_):
    time.sleep(0.005)


def square(x):
    return x * x


def spin(k):
    x = 0
    for i in range(k):
        x = (x * 31 + i) & 0xFFFFFFFF
    return x


def calibrate(target=0.0002):
    k = 1000
    while True:
        t = time.perf_counter()
        spin(k)
        dt = time.perf_counter() - t
        if dt > 0.002:
            return max(1, int(k * target / dt))
        k *= 2


def best_map(pool, fn, items, rounds=3):
    best = None
    for _ in range(rounds):
        t = time.perf_counter()
        pool.map(fn, items)
        dt = time.perf_counter() - t
        best = dt if best is None or dt < best else best
    return best


def main():
    case = sys.argv[1]
    if case == "sleep":
        n, procs = int(sys.argv[2]), int(sys.argv[3])
        t = time.perf_counter()
        with mp.Pool(procs) as pool:
            pool.map(wait5, range(n))
        print("seconds %.6f" % (time.perf_counter() - t), flush=True)
    elif case == "square":
        n, procs = int(sys.argv[2]), int(sys.argv[3])
        with mp.Pool(procs) as pool:
            pool.map(square, range(1000))  # workers up before timing
            print("items_per_s %.1f" % (n / best_map(pool, square, range(n))), flush=True)
    elif case == "cpu":
        n = int(sys.argv[2])
        k = calibrate()
        items = [k] * n
        times = {}
        for procs in (1, 2):
            with mp.Pool(procs) as pool:
                pool.map(spin, [k] * procs)
                times[procs] = best_map(pool, spin, items)
        print("t1 %.6f" % times[1], flush=True)
        print("t2 %.6f" % times[2], flush=True)
        print("items_per_s_2p %.1f" % (n / times[2]), flush=True)
    else:
        raise SystemExit("unknown case " + case)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Python's concurrent.futures.ThreadPoolExecutor measured the way bench_tpool measures
fanout's pool, for the comparison the seed lesson invites.

  peer_tpool.py throughput THREADS N   prints tasks per second for N empty tasks
  peer_tpool.py latency THREADS N      prints median and p99 submit-to-start, microseconds

time.perf_counter() is CLOCK_MONOTONIC on Linux, the clock the C side uses.
"""
import sys
import time
from concurrent.futures import ThreadPoolExecutor, wait

IDLE_S = 300e-6  # TPOOL_BENCH_IDLE_US: workers are asleep again before each latency sample


def empty():
    pass


def warm_up(ex, threads):
    # The executor starts its threads lazily; start them all before the clock runs.
    wait([ex.submit(time.sleep, 0.001) for _ in range(threads)])


def throughput(threads, n):
    with ThreadPoolExecutor(max_workers=threads) as ex:
        warm_up(ex, threads)
        t0 = time.perf_counter()
        futures = [ex.submit(empty) for _ in range(n)]
        wait(futures)
        return n / (time.perf_counter() - t0)


def latency(threads, n):
    started = [0.0]

    def probe():
        started[0] = time.perf_counter()

    samples = []
    with ThreadPoolExecutor(max_workers=threads) as ex:
        warm_up(ex, threads)
        for _ in range(n):
            time.sleep(IDLE_S)
            t0 = time.perf_counter()
            ex.submit(probe).result()
            samples.append((started[0] - t0) * 1e6)
    samples.sort()
    return samples[n // 2], samples[min(n - 1, n * 99 // 100)]


def main():
    mode, threads, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    if mode == "throughput":
        print("%.6g" % throughput(threads, n))
    else:
        print("%.6g %.6g" % latency(threads, n))


if __name__ == "__main__":
    main()

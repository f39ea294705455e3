#!/usr/bin/env python3
"""Benchmark peer: the seed lesson's way, ThreadPoolExecutor(50) and urllib, over a URL file.

usage: peer_urllib.py URLFILE [WORKERS]   prints the seconds taken and the failures
"""
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            r.read()
            return r.status == 200
    except Exception:  # a failed call counts, it does not stop the others
        return False


def main():
    with open(sys.argv[1]) as f:
        urls = [line.strip() for line in f if line.strip()]
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    t0 = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        ok = sum(pool.map(get, urls))
    took = time.monotonic() - t0
    print(f"{took:.6f} {len(urls) - ok}")


if __name__ == "__main__":
    main()

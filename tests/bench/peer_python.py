"""Benchmark peer: Python's json on the same task as bench_json (every element's id and three
spaceTrack fields). Prints the best CPU time in seconds over ROUNDS (as bench_json measures
its own), timed inside the interpreter so its start-up does not count against it.

usage: peer_python.py FILE ROUNDS
"""
import json
import sys
import time


def main():
    with open(sys.argv[1], "rb") as f:
        data = f.read()
    best = float("inf")
    for _ in range(int(sys.argv[2])):
        t = time.process_time()
        out = [(d["id"], d["spaceTrack"]["OBJECT_NAME"], d["spaceTrack"]["LAUNCH_DATE"],
                d["spaceTrack"]["DECAY_DATE"]) for d in json.loads(data)]
        best = min(best, time.process_time() - t)
        assert len(out) > 0
    print(f"{best:.6f}")


main()

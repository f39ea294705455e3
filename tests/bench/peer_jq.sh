#!/bin/sh
# Benchmark peer: jq on the same task as bench_json (every element's id and three spaceTrack
# fields), output discarded. bench_json takes the CPU time of the whole process (its rusage);
# jq's start-up is a few milliseconds against a quarter of a second of work.
#   peer_jq.sh JQ FILE
exec "$1" -c '[.[] | [.id, .spaceTrack.OBJECT_NAME, .spaceTrack.LAUNCH_DATE, .spaceTrack.DECAY_DATE]]' "$2" >/dev/null

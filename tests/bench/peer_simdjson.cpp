// Benchmark peer: simdjson's On-Demand API on the same task as bench_json (every element's id
// and three spaceTrack fields, copied out as bench_json copies its own). Prints the best CPU
// time in seconds over ROUNDS and a hash of what it extracted, so bench_json can check that
// both sides read the same. KERNEL is "native" (the best simdjson has for this CPU) or
// "fallback" (its portable scalar kernel), chosen with simdjson's own switch.
//   usage: peer_simdjson FILE KERNEL ROUNDS
#include <simdjson.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string_view>

static double cpu_now() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t mix(uint64_t h, std::string_view s) {
  for (unsigned char c : s)
    h = (h ^ c) * 1099511628211u;
  return (h ^ 0xff) * 1099511628211u;
}

int main(int argc, char **argv) {
  if (argc != 4)
    return 2;
  if (std::strcmp(argv[2], "fallback") == 0) {
    auto fb = simdjson::get_available_implementations()["fallback"];
    if (fb == nullptr)
      return 3;
    simdjson::get_active_implementation() = fb;
  }
  simdjson::padded_string json;
  if (simdjson::padded_string::load(argv[1]).get(json))
    return 4;
  simdjson::ondemand::parser parser;
  double best = 1e30;
  uint64_t hash = 0;
  static char out[4][64];
  for (int r = 0; r < std::atoi(argv[3]); r++) {
    double t = cpu_now();
    uint64_t h = 14695981039346656037u;
    simdjson::ondemand::document doc = parser.iterate(json);
    for (auto elem : doc.get_array()) {
      simdjson::ondemand::object o = elem.get_object();
      simdjson::ondemand::object track = o["spaceTrack"].get_object();
      std::string_view name = track["OBJECT_NAME"].get_string();
      std::string_view launch = track["LAUNCH_DATE"].get_string();
      auto decay_v = track["DECAY_DATE"];
      std::string_view decay = decay_v.is_null() ? std::string_view("null")
                                                 : std::string_view(decay_v.get_string());
      std::string_view id = o["id"].get_string();
      std::string_view f[4] = {id, name, launch, decay};
      for (int i = 0; i < 4; i++) {
        size_t n = f[i].size() < 63 ? f[i].size() : 63;
        std::memcpy(out[i], f[i].data(), n);
        out[i][n] = '\0';
        h = mix(h, std::string_view(out[i], n));
      }
    }
    t = cpu_now() - t;
    best = t < best ? t : best;
    hash = h;
  }
  std::printf("%.6f %016llx %s\n", best, (unsigned long long)hash,
              simdjson::get_active_implementation()->name().c_str());
  return 0;
}

// Benchmark peer: simdjson's On-Demand API on the same task as bench_json. FIELDS "record" is
// what fo_sat_list_parse() hands out (every text field, NORAD_CAT_ID, DECAYED and the four
// positions converted; the dates stay text here, fanout also parses them); "four" is the
// element's id and three spaceTrack texts only, copied out as bench_json copies its own. Fields
// are read in document order, the order On-Demand is fastest in. Prints the best CPU time in
// seconds over ROUNDS and a hash of what it extracted, so bench_json can check that both sides
// read the same. KERNEL is "native" (the best simdjson has for this CPU) or "fallback" (its
// portable scalar kernel), chosen with simdjson's own switch.
//   usage: peer_simdjson FILE KERNEL ROUNDS FIELDS
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

static uint64_t mix_bits(uint64_t h, const void *p, size_t n) {
  return mix(h, std::string_view(static_cast<const char *>(p), n));
}

// A text field copied out (null as "null", as bench_json writes it), then hashed.
static uint64_t take_text(uint64_t h, simdjson::ondemand::value v, char *out, size_t size) {
  std::string_view s = v.is_null() ? std::string_view("null") : std::string_view(v.get_string());
  size_t n = s.size() < size - 1 ? s.size() : size - 1;
  std::memcpy(out, s.data(), n);
  out[n] = '\0';
  return mix(h, std::string_view(out, n));
}

// A position: 0 with has 0 when null, as fo_sat_record holds it.
static uint64_t take_double(uint64_t h, simdjson::ondemand::value v) {
  double d = 0;
  unsigned char has = !v.is_null();
  if (has)
    d = v.get_double();
  return mix_bits(mix_bits(h, &has, 1), &d, sizeof d);
}

// Everything fo_sat_record holds but the parsed dates, in document order.
static uint64_t record(uint64_t h, simdjson::ondemand::object o) {
  static char text[6][64];
  simdjson::ondemand::object track = o["spaceTrack"].get_object();
  h = take_text(h, track["OBJECT_NAME"].value(), text[0], 48);
  h = take_text(h, track["OBJECT_ID"].value(), text[1], 16);
  h = take_text(h, track["EPOCH"].value(), text[2], 32);
  int64_t norad = track["NORAD_CAT_ID"].get_int64();
  h = take_text(h, track["LAUNCH_DATE"].value(), text[3], 32);
  h = take_text(h, track["DECAY_DATE"].value(), text[4], 32);
  int64_t decayed = track["DECAYED"].get_int64();
  h = mix_bits(mix_bits(h, &norad, sizeof norad), &decayed, sizeof decayed);
  h = take_double(h, o["longitude"].value());
  h = take_double(h, o["latitude"].value());
  h = take_double(h, o["height_km"].value());
  h = take_double(h, o["velocity_kms"].value());
  return take_text(h, o["id"].value(), text[5], 25);
}

int main(int argc, char **argv) {
  if (argc != 5)
    return 2;
  bool all = std::strcmp(argv[4], "record") == 0;
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
      if (all) {
        h = record(h, o);
        continue;
      }
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

/* The process pool's chunk policy and arena geometry: pure arithmetic, tested on its own. */
#include "config.h"

#include <stdint.h>

#include "ppool/ppool_internal.h"

static size_t align_up(size_t n) {
  return (n + FO__PPOOL_ALIGN - 1) & ~(size_t)(FO__PPOOL_ALIGN - 1);
}

size_t fo__ppool_chunk_items(size_t remaining, unsigned workers, double ns_per_item,
                             size_t slot_items, size_t fixed) {
  size_t cap = remaining < slot_items ? remaining : slot_items;
  size_t c;
  if (fixed > 0) {
    c = fixed;
  } else {
    size_t div = 2 * (size_t)(workers > 0 ? workers : 1);
    c = remaining / div + (remaining % div != 0);
    if (ns_per_item > 0) {
      double floor_items = (double)FO_PPOOL_CHUNK_NS / ns_per_item;
      if (floor_items > (double)c)
        c = floor_items >= (double)SIZE_MAX ? SIZE_MAX : (size_t)floor_items;
    }
  }
  if (c > cap)
    c = cap;
  return c > 0 ? c : 1;
}

unsigned fo__ppool_geometry(size_t space, unsigned nslots, size_t in_size, size_t out_size,
                            size_t *slot_items, size_t *slot_bytes, size_t *out_off) {
  size_t item = in_size + out_size;
  if (item < in_size)
    return 0;
  for (unsigned n = nslots; n >= 1; n--) {
    size_t per = (space / n) & ~(size_t)(FO__PPOOL_ALIGN - 1);
    if (per < 2 * FO__PPOOL_ALIGN)
      continue;
    /* Each part may lose up to an alignment unit to padding. */
    size_t items = item == 0 ? SIZE_MAX : (per - 2 * FO__PPOOL_ALIGN) / item;
    if (items == 0)
      continue;
    /* nothing to hold (sizes 0): any count, kept well in range: 2^40 on 64-bit boards,
     * 2^24 on 32-bit ones (written so no shift reaches the width of a 32-bit size_t) */
    const size_t cap = sizeof(size_t) >= 8 ? ((size_t)1 << 20) << 20 : SIZE_MAX >> 8;
    if (items > cap)
      items = cap;
    *slot_items = items;
    *out_off = align_up(items * in_size);
    *slot_bytes = per;
    return n;
  }
  return 0;
}

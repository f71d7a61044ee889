#include "engine/allocator.h"

#include <cstdlib>  // defines __GLIBC__ on glibc systems (tested below)
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace memsig {

void keep_freed_memory() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_MAX, 0);              // no block of its own per large tensor: all come from the heap
  mallopt(M_TRIM_THRESHOLD, 1 << 30);  // and freed ones stay there (up to 1 GB free) for the next step
  mallopt(M_TOP_PAD, 16 << 20);        // grow the heap 16 MB at a time
#endif
}

}  // namespace memsig

// allocator.h — how the process hands memory back: kept for reuse, not returned to the kernel.
//
// A training step allocates the same large tensors (tapes of T×B×4H floats, gradients) again and
// again. glibc's malloc serves large blocks with fresh mmap()s (above a threshold that moves
// between 128 KB and 32 MB) and trims freed memory at the top of the heap, so every step's tensors
// come back as new pages: a page fault and a kernel zeroing per 4 KB, before our own zero fill.
// Measured here (2 threads, 60 steps of LSTM 1x80 training): 111,000 page faults and 420k chars/s
// with glibc's defaults; 5,900 and 950k chars/s with freed memory kept (GRU 1x320: 78k -> 148k).
// PyTorch 1.13 given the same malloc settings (GLIBC_TUNABLES) gained nothing.
#pragma once

namespace memsig {

// Tells glibc's malloc to serve every block from its heap and not to trim it, so freed blocks are
// reused by the next step. The process keeps its peak heap, and fragmentation raises the peak:
// LSTM 1x640 training on PTB's 64 longest sentences peaked at 1,295 MiB against 1,010 MiB with
// glibc's defaults. Call once at the start of a program; a no-op where the C library is not glibc.
void keep_freed_memory();

}  // namespace memsig

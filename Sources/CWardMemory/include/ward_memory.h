#ifndef WARD_MEMORY_H
#define WARD_MEMORY_H

/// Fixes glibc's mmap threshold at `bytes`: allocations that large are mapped and unmapped
/// rather than taken from the heap, so their memory goes back to the system when freed.
/// Returns 1 when set, 0 when refused or not glibc.
int ward_fix_mmap_threshold(int bytes);

#endif

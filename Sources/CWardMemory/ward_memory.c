#include "ward_memory.h"
#include <stdlib.h>   /* defines __GLIBC__ where the C library is glibc */

#if defined(__GLIBC__)
#include <malloc.h>

int ward_fix_mmap_threshold(int bytes) {
    return mallopt(M_MMAP_THRESHOLD, bytes);
}
#else
int ward_fix_mmap_threshold(int bytes) {
    (void)bytes;
    return 0;
}
#endif

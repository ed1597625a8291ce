/* Resident memory the process can have back for free. The backend's idle
 * RSS is mostly pages of code and read-only data mapped from its binary and
 * libc (bench/results/latest.md measures each): the kernel maps them 64 KiB
 * at a time around every first touch, and keeps them mapped for good, so the
 * start-up code, the settings parser and the first TLS or JSON work stay
 * resident while the backend idles. lean_file_pages unmaps the pages of
 * every clean, read-only, private file mapping (code, read-only data: never
 * written, so identical to the file); what runs afterwards faults its pages
 * back in from the page cache. Heap, stacks, writable data and anything a
 * relocation wrote stay as they are. */
#ifndef SR_LEAN_H
#define SR_LEAN_H

#include <stddef.h>

/* Unmaps the resident pages of the clean read-only file mappings. The KiB
 * it let go of (as counted by /proc/self/smaps before), or -1 when
 * /proc/self/smaps cannot be read. Safe from any thread at any time. */
long lean_file_pages(void);

/* What lean_file_pages would do with one mapping, from its smaps header line
 * and its counters (pure, for tests): 1 when it may be dropped. */
int lean_droppable(const char *header, long anonymous_kb, long private_dirty_kb,
                   long shared_dirty_kb);

#endif

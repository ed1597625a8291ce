#include "lean.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define MAX_RANGES 128

int lean_droppable(const char *header, long anonymous_kb, long private_dirty_kb,
                   long shared_dirty_kb)
{
    unsigned long start, end;
    char perms[8] = "";
    int path_at = 0;
    if (sscanf(header, "%lx-%lx %7s %*s %*s %*s %n", &start, &end, perms, &path_at) < 3 || !path_at)
        return 0;
    const char *path = header + path_at;
    /* readable, not writable, private, a file (not [vdso], [stack], ...) */
    if (strlen(perms) < 4 || perms[0] != 'r' || perms[1] != '-' || perms[3] != 'p' ||
        path[0] != '/' || strstr(path, " (deleted)"))
        return 0;
    /* a page written once (relocations, RELRO) is no longer the file's */
    return anonymous_kb == 0 && private_dirty_kb == 0 && shared_dirty_kb == 0 && end > start;
}

static long field_kb(const char *line, const char *name)
{
    size_t n = strlen(name);
    return strncmp(line, name, n) == 0 ? strtol(line + n, NULL, 10) : -1;
}

long lean_file_pages(void)
{
    struct {
        unsigned long start, end;
        long rss_kb;
    } ranges[MAX_RANGES];
    FILE *f = fopen("/proc/self/smaps", "re");
    if (!f)
        return -1;
    char line[1024], header[1024] = "";
    long anon = 0, pdirty = 0, sdirty = 0, rss = 0, v;
    int n = 0, have = 0;
    /* one mapping's header, then its "Name: N kB" lines */
    for (;;) {
        int eof = !fgets(line, sizeof line, f);
        unsigned long a, b;
        char perms[8];
        /* a mapping's header starts "start-end perms"; its fields "Name:" */
        int is_header = !eof && sscanf(line, "%lx-%lx %7s", &a, &b, perms) == 3;
        if ((eof || is_header) && have && n < MAX_RANGES &&
            lean_droppable(header, anon, pdirty, sdirty) && rss > 0) {
            unsigned long hs, he;
            sscanf(header, "%lx-%lx", &hs, &he);
            ranges[n].start = hs;
            ranges[n].end = he;
            ranges[n].rss_kb = rss;
            n++;
        }
        if (eof)
            break;
        if (is_header) {
            snprintf(header, sizeof header, "%s", line);
            header[strcspn(header, "\n")] = '\0';
            anon = pdirty = sdirty = rss = 0;
            have = 1;
        } else if ((v = field_kb(line, "Anonymous:")) >= 0) {
            anon = v;
        } else if ((v = field_kb(line, "Private_Dirty:")) >= 0) {
            pdirty = v;
        } else if ((v = field_kb(line, "Shared_Dirty:")) >= 0) {
            sdirty = v;
        } else if ((v = field_kb(line, "Rss:")) >= 0) {
            rss = v;
        }
    }
    fclose(f);
    long freed = 0;
    for (int i = 0; i < n; i++)
        if (madvise((void *)ranges[i].start, ranges[i].end - ranges[i].start, MADV_DONTNEED) == 0)
            freed += ranges[i].rss_kb;
    return freed;
}

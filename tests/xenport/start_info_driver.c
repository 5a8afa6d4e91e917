/* Hosted driver for xenport/xen/start_info.c (tests/xenport/test_start_info.py).
 *
 * stdin: records of "NAME VALUE" lines ended by an empty line; NAME is a
 * start_info field (magic, nr_pages, flags, pt_base, nr_pt_frames, mfn_list,
 * mod_start, mod_len) or where things are (si_va, kernel_end, boot_rsp).
 * cmd_line is filled with 'x' to its end; a magic of "-" is empty.  stdout, one line per record:
 * "ok FIRST_FREE MODULE_START MODULE_SIZE" or "error WHY".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xen/start_info.h"

int main(void)
{
    char line[256];
    struct start_info si;
    uint64_t si_va = 0, kernel_end = 0, boot_rsp = 0;
    int have = 0;
    memset(&si, 0, sizeof(si));
    while (fgets(line, sizeof(line), stdin)) {
        char name[32], value[64];
        if (sscanf(line, "%31s %63s", name, value) != 2) {
            if (!have)
                continue;
            memset(si.cmd_line, 'x', sizeof(si.cmd_line));
            struct xen_pv_layout out;
            const char *why = xen_pv_check_start_info(&si, si_va, kernel_end, boot_rsp, &out);
            if (si.cmd_line[MAX_GUEST_CMDLINE - 1] != 0)
                abort();                        /* must always end with a NUL */
            if (why)
                printf("error %s\n", why);
            else
                printf("ok %llu %llu %llu\n", (unsigned long long)out.first_free,
                       (unsigned long long)out.module_start,
                       (unsigned long long)out.module_size);
            memset(&si, 0, sizeof(si));
            si_va = kernel_end = boot_rsp = 0;
            have = 0;
            continue;
        }
        have = 1;
        uint64_t v = strtoull(value, 0, 0);
        if (!strcmp(name, "magic"))
            strncpy(si.magic, strcmp(value, "-") ? value : "", sizeof(si.magic) - 1);
        else if (!strcmp(name, "nr_pages"))
            si.nr_pages = v;
        else if (!strcmp(name, "flags"))
            si.flags = (uint32_t)v;
        else if (!strcmp(name, "pt_base"))
            si.pt_base = v;
        else if (!strcmp(name, "nr_pt_frames"))
            si.nr_pt_frames = v;
        else if (!strcmp(name, "mfn_list"))
            si.mfn_list = v;
        else if (!strcmp(name, "mod_start"))
            si.mod_start = v;
        else if (!strcmp(name, "mod_len"))
            si.mod_len = v;
        else if (!strcmp(name, "si_va"))
            si_va = v;
        else if (!strcmp(name, "kernel_end"))
            kernel_end = v;
        else if (!strcmp(name, "boot_rsp"))
            boot_rsp = v;
        else
            return 2;
    }
    return 0;
}

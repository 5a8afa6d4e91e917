/* Hosted driver for xenport/xen/xs_parse.c (tests/xenport/test_xs_parse.py).
 *
 * stdin: records of a 4-byte little-endian length and that many bytes, each
 * fed to xs_rx_feed as the ring would hand it over.  stdout, one line per
 * event: "msg TYPE REQ_ID TX_ID LEN SPLIT STATUS HEX" for a whole message
 * (SPLIT: xs_split's count or its error; STATUS: xs_reply_status against
 * XS_READ), "bad" for a malformed header (the reader starts over), and at the
 * end "partial HAVE".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xen/xs_parse.h"

static struct xs_rx rx;

static void whole(void)
{
    const char *strings[16];
    int split = xs_split(rx.payload, rx.hdr.len, strings, 16);
    int status = xs_reply_status(&rx, XS_READ);
    if (rx.payload[rx.hdr.len] != 0)
        abort();                                /* must stay NUL-terminated */
    printf("msg %u %u %u %u %d %d ", rx.hdr.type, rx.hdr.req_id, rx.hdr.tx_id, rx.hdr.len,
           split, status);
    for (uint32_t i = 0; i < rx.hdr.len; i++)
        printf("%02x", (unsigned char)rx.payload[i]);
    printf("\n");
}

int main(void)
{
    static char chunk[1 << 16];
    unsigned char lenbuf[4];
    xs_rx_reset(&rx);
    while (fread(lenbuf, 1, 4, stdin) == 4) {
        uint32_t n = lenbuf[0] | lenbuf[1] << 8 | lenbuf[2] << 16 | (uint32_t)lenbuf[3] << 24;
        if (n > sizeof(chunk) || fread(chunk, 1, n, stdin) != n)
            return 2;
        const char *p = chunk;
        while (n) {
            uint32_t used;
            int r = xs_rx_feed(&rx, p, n, &used);
            if (used > n)
                abort();
            p += used;
            n -= used;
            if (r < 0) {
                printf("bad\n");
                xs_rx_reset(&rx);
            } else if (r == 1) {
                whole();
                xs_rx_reset(&rx);
            } else if (n) {
                abort();                        /* wanted more but left bytes */
            }
        }
    }
    printf("partial %u\n", rx.have);
    printf("errno %d %d %d %d\n", xs_error_errno("ENOENT", 7), xs_error_errno("EACCES", 6),
           xs_error_errno("EFOO", 5), xs_error_errno("", 0));
    printf("name %s %s\n", xs_errno_name(EAGAIN), xs_errno_name(12345));
    return 0;
}

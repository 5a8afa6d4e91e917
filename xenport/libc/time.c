/* xenport: clocks and sleeping, on the platform's monotonic clock. */
#include <errno.h>
#include <stdint.h>
#include <sys/select.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>

#include "xenport/net.h"
#include "xenport/platform.h"


int clock_gettime(clockid_t id, struct timespec *ts)
{
    uint64_t ns;
    switch (id) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
        ns = xp_realtime_ns();
        break;
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
    case CLOCK_PROCESS_CPUTIME_ID:
    case CLOCK_THREAD_CPUTIME_ID:
        ns = xp_monotonic_ns();
        break;
    default:
        errno = EINVAL;
        return -1;
    }
    ts->tv_sec = (time_t)(ns / 1000000000ULL);
    ts->tv_nsec = (long)(ns % 1000000000ULL);
    return 0;
}

int clock_getres(clockid_t id, struct timespec *ts)
{
    (void)id;
    if (ts) {
        ts->tv_sec = 0;
        ts->tv_nsec = 1;
    }
    return 0;
}

int gettimeofday(struct timeval *tv, void *tz)
{
    (void)tz;
    if (tv) {
        uint64_t ns = xp_realtime_ns();
        tv->tv_sec = (time_t)(ns / 1000000000ULL);
        tv->tv_usec = (suseconds_t)((ns / 1000) % 1000000);
    }
    return 0;
}

time_t time(time_t *t)
{
    time_t now = (time_t)(xp_realtime_ns() / 1000000000ULL);
    if (t)
        *t = now;
    return now;
}

clock_t clock(void)
{
    return (clock_t)(xp_monotonic_ns() / 1000);   /* CLOCKS_PER_SEC is 1000000 */
}

clock_t times(struct tms *t)
{
    clock_t ticks = (clock_t)(xp_monotonic_ns() / 10000000);   /* 100 Hz */
    if (t) {
        t->tms_utime = ticks;
        t->tms_stime = 0;
        t->tms_cutime = 0;
        t->tms_cstime = 0;
    }
    return ticks;
}

/* Wait until the monotonic clock reaches deadline (ns), or stop() says so;
   answer -1 (errno EINTR) if a signal handler ran meanwhile, as Unix does. */
static int wait_until(uint64_t deadline, int (*stop)(void))
{
    unsigned long signals = xp_signals_delivered();
    while (xp_monotonic_ns() < deadline) {
        if (stop && stop())
            return 0;
        xp_wait_step(deadline);
        if (xp_signals_delivered() != signals) {
            errno = EINTR;
            return -1;
        }
    }
    return 0;
}

int nanosleep(const struct timespec *req, struct timespec *rem)
{
    if (!req || req->tv_nsec < 0 || req->tv_nsec >= 1000000000L || req->tv_sec < 0) {
        errno = EINVAL;
        return -1;
    }
    uint64_t deadline = xp_monotonic_ns() + (uint64_t)req->tv_sec * 1000000000ULL +
                        (uint64_t)req->tv_nsec;
    int rc = wait_until(deadline, 0);
    if (rem) {
        uint64_t now = xp_monotonic_ns();
        uint64_t left = rc < 0 && now < deadline ? deadline - now : 0;
        rem->tv_sec = (time_t)(left / 1000000000ULL);
        rem->tv_nsec = (long)(left % 1000000000ULL);
    }
    return rc;
}

int clock_nanosleep(clockid_t id, int flags, const struct timespec *req, struct timespec *rem)
{
    if (flags & TIMER_ABSTIME) {
        struct timespec now;
        if (clock_gettime(id, &now) < 0)
            return EINVAL;
        int64_t d = (int64_t)(req->tv_sec - now.tv_sec) * 1000000000LL +
                    (req->tv_nsec - now.tv_nsec);
        if (d > 0)
            wait_until(xp_monotonic_ns() + (uint64_t)d, 0);
        return 0;
    }
    return nanosleep(req, rem) < 0 ? errno : 0;
}

int usleep(useconds_t us)
{
    wait_until(xp_monotonic_ns() + (uint64_t)us * 1000ULL, 0);
    return 0;
}

unsigned sleep(unsigned s)
{
    wait_until(xp_monotonic_ns() + (uint64_t)s * 1000000000ULL, 0);
    return 0;
}

/* select: standard input can become readable; files are always ready; the
   timeout is honoured.  Enough for time.sleep() and polling stdin. */
static fd_set *select_read;
static int select_nfds;

static int stdin_wanted_and_ready(void)
{
    return select_read && select_nfds > 0 && FD_ISSET(0, select_read) && xp_stdin_ready();
}

int select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
    int ready = 0;
    fd_set rin, win;
    FD_ZERO(&rin);
    FD_ZERO(&win);
    if (r)
        rin = *r;
    if (w)
        win = *w;
    if (e)
        FD_ZERO(e);
    /* Everything but standard input is ready at once. */
    int only_stdin = 1;
    for (int fd = 0; fd < nfds; fd++) {
        if ((r && FD_ISSET(fd, &rin) && fd != 0) || (w && FD_ISSET(fd, &win)))
            only_stdin = 0;
    }
    if (only_stdin && !(r && nfds > 0 && FD_ISSET(0, &rin) && xp_stdin_ready())) {
        if (tv) {
            select_read = r ? &rin : 0;
            select_nfds = nfds;
            int rc = wait_until(xp_monotonic_ns() + (uint64_t)tv->tv_sec * 1000000000ULL +
                                (uint64_t)tv->tv_usec * 1000ULL, stdin_wanted_and_ready);
            select_read = 0;
            if (rc < 0)
                return -1;                  /* EINTR: a signal handler ran */
        } else if (r && nfds > 0 && FD_ISSET(0, &rin)) {
            while (!xp_stdin_ready())
                xp_wait_step(0);
        }
    }
    if (r) {
        FD_ZERO(r);
        for (int fd = 0; fd < nfds; fd++) {
            if (FD_ISSET(fd, &rin) && (fd != 0 || xp_stdin_ready())) {
                FD_SET(fd, r);
                ready++;
            }
        }
    }
    if (w) {
        FD_ZERO(w);
        for (int fd = 0; fd < nfds; fd++) {
            if (FD_ISSET(fd, &win)) {
                FD_SET(fd, w);
                ready++;
            }
        }
    }
    return ready;
}

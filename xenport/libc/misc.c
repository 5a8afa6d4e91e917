/* xenport: process, system and signal calls of a single-program machine. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "arch/x86_64/cpu.h"
#include "xenport/boot.h"
#include "xenport/kernel.h"
#include "xenport/platform.h"

pid_t getpid(void) { return 1; }
pid_t getppid(void) { return 0; }
uid_t getuid(void) { return 0; }
uid_t geteuid(void) { return 0; }
gid_t getgid(void) { return 0; }
gid_t getegid(void) { return 0; }
pid_t getpgrp(void) { return 1; }
pid_t setsid(void) { return 1; }

int uname(struct utsname *u)
{
    memset(u, 0, sizeof(*u));
    strcpy(u->sysname, "CogXen");
    strcpy(u->nodename, "xenport");
    strcpy(u->release, "1");
    snprintf(u->version, sizeof(u->version), "xenport %s", xp_platform_name());
    strcpy(u->machine, "x86_64");
    return 0;
}

int gethostname(char *name, size_t len)
{
    if (len < 8) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(name, "xenport");
    return 0;
}

long sysconf(int name)
{
    switch (name) {
    case _SC_PAGESIZE:
        return 4096;
    case _SC_NPROCESSORS_CONF:
    case _SC_NPROCESSORS_ONLN:
        return 1;
    case _SC_CLK_TCK:
        return 100;
    case _SC_OPEN_MAX:
        return 64;
    default:
        errno = EINVAL;
        return -1;
    }
}

int getrlimit(int res, struct rlimit *r)
{
    (void)res;
    r->rlim_cur = r->rlim_max = RLIM_INFINITY;
    if (res == RLIMIT_STACK)
        r->rlim_cur = r->rlim_max = 8 * 1024 * 1024;
    return 0;
}

int setrlimit(int res, const struct rlimit *r)
{
    (void)res;
    (void)r;
    return 0;
}

int getrusage(int who, struct rusage *u)
{
    (void)who;
    memset(u, 0, sizeof(*u));
    uint64_t us = xp_monotonic_ns() / 1000;
    u->ru_utime.tv_sec = (time_t)(us / 1000000);
    u->ru_utime.tv_usec = (suseconds_t)(us % 1000000);
    return 0;
}

/* Signals: nothing in the machine raises them, but xenport delivers SIGTERM for
   the toolstack's stop requests (xen/control.c).  Handlers are recorded and run
   by xp_signal_deliver, on the interrupted program's stack: they must be
   async-signal-safe, as on Unix. */
typedef void (*sig_handler_t)(int);
static sig_handler_t handlers[NSIG];
static volatile unsigned long nr_delivered;

static int valid_signal(int sig)
{
    if (sig <= 0 || sig >= NSIG) {
        errno = EINVAL;
        return 0;
    }
    return 1;
}

int sigaction(int sig, const struct sigaction *restrict act, struct sigaction *restrict old)
{
    if (!valid_signal(sig))
        return -1;
    if (old) {
        memset(old, 0, sizeof(*old));
        old->sa_handler = handlers[sig] ? handlers[sig] : SIG_DFL;
    }
    if (act)
        handlers[sig] = act->sa_handler == SIG_DFL ? 0 : act->sa_handler;
    return 0;
}

void (*signal(int sig, void (*fn)(int)))(int)
{
    if (!valid_signal(sig))
        return SIG_ERR;
    sig_handler_t old = handlers[sig] ? handlers[sig] : SIG_DFL;
    handlers[sig] = fn == SIG_DFL ? 0 : fn;
    return old;
}

int xp_signal_deliver(int sig)
{
    if (sig <= 0 || sig >= NSIG || !handlers[sig] || handlers[sig] == SIG_IGN)
        return 0;
    nr_delivered++;
    handlers[sig](sig);
    return 1;
}

unsigned long xp_signals_delivered(void)
{
    return nr_delivered;
}

int siginterrupt(int sig, int flag)
{
    (void)sig;
    (void)flag;
    return 0;
}

/* No interval timers: the VM then counts sends and jumps between its interrupt
   checks instead of waiting for SIGALRM (spyvm/platform/alarm.py). */
int setitimer(int which, const struct itimerval *restrict value,
              struct itimerval *restrict old)
{
    (void)which;
    (void)value;
    (void)old;
    errno = ENOSYS;
    return -1;
}

int sigemptyset(sigset_t *s)
{
    memset(s, 0, sizeof(*s));
    return 0;
}

int sigfillset(sigset_t *s)
{
    memset(s, 0xff, sizeof(*s));
    return 0;
}

int sigaddset(sigset_t *s, int sig)
{
    (void)s;
    (void)sig;
    return 0;
}

int sigprocmask(int how, const sigset_t *restrict set, sigset_t *restrict old)
{
    (void)how;
    (void)set;
    if (old)
        memset(old, 0, sizeof(*old));
    return 0;
}

int sigaltstack(const stack_t *restrict ss, stack_t *restrict old)
{
    (void)ss;
    if (old)
        memset(old, 0, sizeof(*old));
    return 0;
}

int raise(int sig)
{
    xp_printk("\nxenport: signal %d raised\n", sig);
    xp_exit(XP_EXIT_CRASH);
}

int kill(pid_t pid, int sig)
{
    if (pid == 1 || pid == 0 || pid == -1) {
        if (sig == 0)
            return 0;
        return raise(sig);
    }
    errno = ESRCH;
    return -1;
}

/* The frames of the current stack (for abort and assertion failures). */
void xp_backtrace_here(void)
{
    uint64_t rbp = (uint64_t)(uintptr_t)__builtin_frame_address(0);
    xp_printk("  frames (addr2line -e cogxen.xen):\n");
    for (int i = 0; i < 12; i++) {
        if ((rbp & 7) || rbp < xp_stack_low || rbp + 16 > xp_stack_high)
            break;
        uint64_t ret = ((uint64_t *)(uintptr_t)rbp)[1];
        if (ret < (uint64_t)(uintptr_t)__text_start || ret >= (uint64_t)(uintptr_t)__text_end)
            break;
        xp_printk("    %016lx\n", (unsigned long)ret);
        uint64_t next = ((uint64_t *)(uintptr_t)rbp)[0];
        if (next <= rbp)
            break;
        rbp = next;
    }
}

void __assert_fail(const char *expr, const char *file, int line, const char *func)
{
    xp_printk("\nxenport: assertion failed: %s (%s:%d, %s)\n", expr, file, line, func);
    xp_backtrace_here();
    xp_exit(XP_EXIT_CRASH);
}

void __stack_chk_fail(void)
{
    xp_printk("\nxenport: stack smashing detected\n");
    xp_backtrace_here();
    xp_exit(XP_EXIT_CRASH);
}

char *setlocale(int cat, const char *locale)
{
    (void)cat;
    (void)locale;
    return "C";
}

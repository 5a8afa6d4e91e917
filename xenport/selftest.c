/* xenport's self-test program: linked instead of the VM (make -C xenport
 * selftest), booted by tests/xenport/.  Commands (the kernel command line):
 *   (none)            run the checks below, print "selftest: ok" or the failures
 *   exit N            exit with status N
 *   args A B ...      print each argument on its own line
 *   env NAME          print getenv(NAME) or "(unset)"
 *   cat PATH          copy a boot file to stdout
 *   stderr TEXT       write TEXT to stderr
 *   sleep MS          sleep, then print the elapsed milliseconds
 *   stdin             copy standard input to stdout, then print "<eof>"
 *   alloc MB          malloc and touch MB MiB, print "allocated" (stderr: the
 *                     highest address used)
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static __thread int tls_counter = 42;
static __thread char tls_buffer[100];
static int failures;

#define CHECK(cond) do { if (!(cond)) { failures++; \
    fprintf(stderr, "selftest: FAILED %s:%d: %s\n", __FILE__, __LINE__, #cond); } } while (0)

static void check_format(void)
{
    char b[128];
    snprintf(b, sizeof b, "%d|%5d|%-5d|%05d|%x|%#lx|%s|%.2s|%c|%%", -42, 7, 7, 7, 255,
             0xabcUL, "str", "abc", 'z');
    CHECK(strcmp(b, "-42|    7|7    |00007|ff|0xabc|str|ab|z|%") == 0);
    snprintf(b, sizeof b, "%ld %lu %lld %zu", -1L, 18446744073709551615UL, -9000000000LL,
             (size_t)123);
    CHECK(strcmp(b, "-1 18446744073709551615 -9000000000 123") == 0);
    snprintf(b, sizeof b, "%f %.3f %e %g %g %g", 1.5, 3.14159, 12345.678, 0.0001, 1e20, 100.0);
    CHECK(strcmp(b, "1.500000 3.142 1.234568e+04 0.0001 1e+20 100") == 0);
    CHECK(snprintf(b, 4, "abcdef") == 6 && strcmp(b, "abc") == 0);
}

static void check_memory(void)
{
    /* Many small blocks of many sizes, freed in a scrambled order. */
    enum { N = 4000 };
    static void *blocks[N];
    for (int i = 0; i < N; i++) {
        size_t n = (size_t)(i * 37 % 3000) + 1;
        blocks[i] = malloc(n);
        CHECK(blocks[i] && ((uintptr_t)blocks[i] & 15) == 0);
        memset(blocks[i], i & 255, n);
    }
    for (int i = 0; i < N; i += 2)
        free(blocks[(i * 7) % N]);
    for (int i = 0; i < N; i++) {
        size_t n = (size_t)(i * 37 % 3000) + 1;
        if (((i * 7) % N) % 2 == 0 && 0)
            continue;
        (void)n;
    }
    for (int i = 1; i < N; i += 2) {
        int k = (i * 7) % N;
        unsigned char *p = blocks[k];
        CHECK(p[0] == (k & 255));
        free(p);
    }
    /* Large blocks: arenas of a few MiB, realloc growth, alignment. */
    char *big = malloc(3 << 20);
    CHECK(big != 0);
    memset(big, 1, 3 << 20);
    big = realloc(big, 5 << 20);
    CHECK(big && big[(3 << 20) - 1] == 1);
    free(big);
    void *al = 0;
    CHECK(posix_memalign(&al, 4096, 10000) == 0 && ((uintptr_t)al & 4095) == 0);
    free(al);
    CHECK(posix_memalign(&al, 64, 100) == 0 && ((uintptr_t)al & 63) == 0);
    free(al);
    char *z = calloc(1000, 10);
    int zero = 1;
    for (int i = 0; i < 10000; i++)
        zero &= z[i] == 0;
    CHECK(zero);
    free(z);
    /* mmap: zeroed, writable, executable (a tiny function: mov eax, 42; ret). */
    unsigned char *code = mmap(0, 8192, PROT_READ | PROT_WRITE | PROT_EXEC,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(code != MAP_FAILED && code[100] == 0);
    code[0] = 0xb8; code[1] = 42; code[2] = 0; code[3] = 0; code[4] = 0; code[5] = 0xc3;
    CHECK(((int (*)(void))code)() == 42);
    memset(code, 7, 8192);
    CHECK(mmap(code, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
               -1, 0) == code && code[4000] == 0);
    CHECK(munmap(code, 8192) == 0);
}

static void check_tls(void)
{
    CHECK(tls_counter == 42);
    tls_counter++;
    CHECK(tls_counter == 43);
    CHECK(tls_buffer[99] == 0);
    uint64_t tp;
    __asm__ volatile("mov %%fs:0, %0" : "=r"(tp));
    CHECK(tp != 0 && (uintptr_t)&tls_counter < tp && (uintptr_t)&tls_buffer[99] < tp);
}

static void check_time(void)
{
    struct timespec a, b;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &a) == 0);
    struct timespec d = { 0, 20 * 1000 * 1000 };
    nanosleep(&d, 0);
    CHECK(clock_gettime(CLOCK_MONOTONIC, &b) == 0);
    long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    CHECK(ms >= 20 && ms < 200);
    CHECK(time(0) > 1600000000);         /* the RTC gave a plausible date */
}

static void check_files(void)
{
    CHECK(open("/no/such/file", O_RDONLY) < 0 && errno == ENOENT);
    /* Written in RAM, and not durable. */
    int w = open("/new-file", O_WRONLY | O_CREAT, 0644);
    CHECK(w >= 0 && write(w, "abc", 3) == 3);
    CHECK(fsync(w) < 0 && errno == EINVAL);
    CHECK(close(w) == 0);
    struct stat ws;
    CHECK(stat("/new-file", &ws) == 0 && ws.st_size == 3 && unlink("/new-file") == 0);
    CHECK(fopen("/nope", "r") == 0 && errno == ENOENT);
    struct stat st;
    CHECK(stat("/proc/meminfo", &st) == 0 && S_ISREG(st.st_mode));
    int fd = open("/proc/meminfo", O_RDONLY);
    char buf[64];
    CHECK(fd >= 0 && read(fd, buf, 9) == 9 && memcmp(buf, "MemTotal:", 9) == 0);
    close(fd);
}

static void check_cpu(void)
{
    /* SSE is on (the compiler uses it everywhere); AVX too when the CPU has it. */
    volatile double x = 1.25;
    CHECK(x * 2 == 2.5);
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    if ((c & (1u << 28)) && (c & (1u << 27))) {              /* AVX, OSXSAVE */
        __asm__ volatile("vxorps %%ymm0, %%ymm0, %%ymm0" ::: "xmm0");
    }
}

static void check_math(void)
{
    volatile double x = 2.0;
    CHECK(fabs(sqrt(x) * sqrt(x) - 2.0) < 1e-12);
    CHECK(fabs(sin(0.5) - 0.479425538604203) < 1e-12);
    CHECK(fabs(exp(1.0) - 2.718281828459045) < 1e-12);
    CHECK(fmod(7.5, 2.0) == 1.5);
    int e;
    CHECK(frexp(8.0, &e) == 0.5 && e == 4);
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "exit") == 0)
        return atoi(argv[2]);
    if (argc >= 2 && strcmp(argv[1], "args") == 0) {
        for (int i = 2; i < argc; i++)
            printf("%s\n", argv[i]);
        return 0;
    }
    if (argc >= 3 && strcmp(argv[1], "env") == 0) {
        const char *v = getenv(argv[2]);
        printf("%s\n", v ? v : "(unset)");
        return 0;
    }
    if (argc >= 3 && strcmp(argv[1], "stderr") == 0) {
        fprintf(stderr, "%s\n", argv[2]);
        return 0;
    }
    if (argc >= 3 && strcmp(argv[1], "cat") == 0) {
        int fd = open(argv[2], O_RDONLY);
        if (fd < 0) {
            fprintf(stderr, "cat: %s: %s\n", argv[2], strerror(errno));
            return 1;
        }
        char buf[4096];
        ssize_t n;
        while ((n = read(fd, buf, sizeof buf)) > 0)
            write(1, buf, (size_t)n);
        close(fd);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "stdin") == 0) {
        char buf[256];
        ssize_t n;
        while ((n = read(0, buf, sizeof buf)) > 0)
            write(1, buf, (size_t)n);
        printf("<eof>\n");
        return 0;
    }
    if (argc >= 3 && strcmp(argv[1], "sleep") == 0) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        usleep((useconds_t)atoi(argv[2]) * 1000);
        clock_gettime(CLOCK_MONOTONIC, &b);
        printf("%ld\n", (long)((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000));
        return 0;
    }
    if (argc >= 3 && strcmp(argv[1], "alloc") == 0) {
        /* In 64 MiB blocks: RAM comes in several ranges (below and above 4 GiB). */
        long mb = atol(argv[2]);
        uintptr_t highest = 0;
        for (long done = 0; done < mb; done += 64) {
            size_t n = 64UL << 20;
            char *p = malloc(n);
            if (!p) {
                fprintf(stderr, "alloc: out of memory after %ld MiB\n", done);
                return 1;
            }
            p[0] = 1;                   /* touch both ends (all of it is slow */
            p[n / 2] = 1;               /* on the host: QEMU backs each page) */
            p[n - 1] = 1;
            if ((uintptr_t)p + n > highest)
                highest = (uintptr_t)p + n;
        }
        printf("allocated\n");
        fprintf(stderr, "highest address 0x%lx\n", (unsigned long)highest);
        return 0;
    }
    check_format();
    check_memory();
    check_tls();
    check_time();
    check_files();
    check_math();
    check_cpu();
    if (failures) {
        printf("selftest: %d failures\n", failures);
        return 1;
    }
    printf("selftest: ok\n");
    return 0;
}

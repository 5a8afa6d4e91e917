#define _GNU_SOURCE 1
/* xenport: POSIX threads for a program that has only one.
 *
 * Locks always succeed (nobody else can hold them), thread creation fails with
 * EAGAIN, thread-specific data is a table, condition waits with a deadline
 * sleep until it, semaphores count.  Waiting forever on something only another
 * thread could release reports EDEADLK instead of hanging.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "xenport/platform.h"

pthread_t pthread_self(void)
{
    return (pthread_t)1;
}

#undef pthread_equal
int pthread_equal(pthread_t a, pthread_t b)
{
    return a == b;
}

int pthread_create(pthread_t *restrict t, const pthread_attr_t *restrict a,
                   void *(*fn)(void *), void *restrict arg)
{
    (void)t;
    (void)a;
    (void)fn;
    (void)arg;
    return EAGAIN;
}

int pthread_detach(pthread_t t)
{
    (void)t;
    return 0;
}

int pthread_join(pthread_t t, void **ret)
{
    (void)t;
    (void)ret;
    return ESRCH;
}

int pthread_attr_init(pthread_attr_t *a)
{
    memset(a, 0, sizeof(*a));
    return 0;
}

int pthread_attr_destroy(pthread_attr_t *a)
{
    (void)a;
    return 0;
}

int pthread_attr_setstacksize(pthread_attr_t *a, size_t n)
{
    (void)a;
    (void)n;
    return 0;
}

int pthread_attr_setscope(pthread_attr_t *a, int scope)
{
    (void)a;
    (void)scope;
    return 0;
}

int pthread_attr_setdetachstate(pthread_attr_t *a, int s)
{
    (void)a;
    (void)s;
    return 0;
}

int pthread_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void))
{
    (void)prepare;
    (void)parent;
    (void)child;
    return 0;
}

int pthread_mutex_init(pthread_mutex_t *restrict m, const pthread_mutexattr_t *restrict a)
{
    (void)a;
    memset(m, 0, sizeof(*m));
    return 0;
}

int pthread_mutex_destroy(pthread_mutex_t *m)
{
    (void)m;
    return 0;
}

int pthread_mutex_lock(pthread_mutex_t *m)
{
    (void)m;
    return 0;
}

int pthread_mutex_trylock(pthread_mutex_t *m)
{
    (void)m;
    return 0;
}

int pthread_mutex_unlock(pthread_mutex_t *m)
{
    (void)m;
    return 0;
}

int pthread_mutexattr_init(pthread_mutexattr_t *a)
{
    memset(a, 0, sizeof(*a));
    return 0;
}

int pthread_mutexattr_destroy(pthread_mutexattr_t *a)
{
    (void)a;
    return 0;
}

int pthread_mutexattr_settype(pthread_mutexattr_t *a, int t)
{
    (void)a;
    (void)t;
    return 0;
}

int pthread_cond_init(pthread_cond_t *restrict c, const pthread_condattr_t *restrict a)
{
    (void)a;
    memset(c, 0, sizeof(*c));
    return 0;
}

int pthread_cond_destroy(pthread_cond_t *c)
{
    (void)c;
    return 0;
}

int pthread_cond_signal(pthread_cond_t *c)
{
    (void)c;
    return 0;
}

int pthread_cond_broadcast(pthread_cond_t *c)
{
    (void)c;
    return 0;
}

int pthread_cond_wait(pthread_cond_t *restrict c, pthread_mutex_t *restrict m)
{
    (void)c;
    (void)m;
    return EDEADLK;
}

int pthread_cond_timedwait(pthread_cond_t *restrict c, pthread_mutex_t *restrict m,
                           const struct timespec *restrict abstime)
{
    (void)c;
    (void)m;
    clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, abstime, 0);
    return ETIMEDOUT;
}

int pthread_condattr_init(pthread_condattr_t *a)
{
    memset(a, 0, sizeof(*a));
    return 0;
}

int pthread_condattr_setclock(pthread_condattr_t *a, clockid_t clk)
{
    (void)a;
    (void)clk;
    return 0;
}

#define MAX_KEYS 128
static struct {
    int used;
    void *value;
} keys[MAX_KEYS];

int pthread_key_create(pthread_key_t *k, void (*dtor)(void *))
{
    (void)dtor;
    for (unsigned i = 0; i < MAX_KEYS; i++) {
        if (!keys[i].used) {
            keys[i].used = 1;
            keys[i].value = 0;
            *k = i;
            return 0;
        }
    }
    return EAGAIN;
}

int pthread_key_delete(pthread_key_t k)
{
    if (k >= MAX_KEYS)
        return EINVAL;
    keys[k].used = 0;
    return 0;
}

void *pthread_getspecific(pthread_key_t k)
{
    return k < MAX_KEYS ? keys[k].value : 0;
}

int pthread_setspecific(pthread_key_t k, const void *v)
{
    if (k >= MAX_KEYS || !keys[k].used)
        return EINVAL;
    keys[k].value = (void *)v;
    return 0;
}

int pthread_once(pthread_once_t *once, void (*fn)(void))
{
    if (!*once) {
        *once = 1;
        fn();
    }
    return 0;
}

int pthread_sigmask(int how, const void *set, void *old)
{
    (void)how;
    (void)set;
    (void)old;
    return 0;
}

/* Semaphores: the count lives in the sem_t's first word. */
static volatile long *sem_count(sem_t *s)
{
    return (volatile long *)(void *)s;
}

int sem_init(sem_t *s, int shared, unsigned value)
{
    (void)shared;
    memset(s, 0, sizeof(*s));
    *sem_count(s) = (long)value;
    return 0;
}

int sem_destroy(sem_t *s)
{
    (void)s;
    return 0;
}

int sem_post(sem_t *s)
{
    (*sem_count(s))++;
    return 0;
}

int sem_trywait(sem_t *s)
{
    if (*sem_count(s) > 0) {
        (*sem_count(s))--;
        return 0;
    }
    errno = EAGAIN;
    return -1;
}

int sem_wait(sem_t *s)
{
    if (sem_trywait(s) == 0)
        return 0;
    errno = EDEADLK;
    return -1;
}

int sem_timedwait(sem_t *restrict s, const struct timespec *restrict abstime)
{
    if (sem_trywait(s) == 0)
        return 0;
    clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, abstime, 0);
    errno = ETIMEDOUT;
    return -1;
}

int sem_getvalue(sem_t *restrict s, int *restrict v)
{
    *v = (int)*sem_count(s);
    return 0;
}

int sched_yield(void)
{
    return 0;
}

int sched_getaffinity(pid_t pid, size_t size, cpu_set_t *set)
{
    (void)pid;
    memset(set, 0, size);
    if (size)
        ((unsigned char *)set)[0] = 1;
    return 0;
}

int sched_setaffinity(pid_t pid, size_t size, const cpu_set_t *set)
{
    (void)pid;
    (void)size;
    (void)set;
    return 0;
}

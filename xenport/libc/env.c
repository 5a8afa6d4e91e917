/* xenport: the environment: set from the command line's leading NAME=value
   words (cmdline.c), read by getenv (RPython reads PYPY_GC_* and friends). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xenport/cmdline.h"

static char *empty_env[1];
char **environ = empty_env;
static size_t env_count, env_cap;

static size_t name_len(const char *s)
{
    const char *eq = strchr(s, '=');
    return eq ? (size_t)(eq - s) : strlen(s);
}

static long find(const char *name, size_t len)
{
    for (size_t i = 0; i < env_count; i++)
        if (strncmp(environ[i], name, len) == 0 && environ[i][len] == '=')
            return (long)i;
    return -1;
}

char *getenv(const char *name)
{
    size_t len = strlen(name);
    long i = find(name, len);
    return i < 0 ? 0 : environ[i] + len + 1;
}

int xp_env_put(const char *assignment)
{
    size_t len = name_len(assignment);
    char *copy = strdup(assignment);
    if (!copy)
        return -1;
    long i = find(assignment, len);
    if (i >= 0) {
        environ[i] = copy;
        return 0;
    }
    if (env_count + 2 > env_cap) {
        size_t cap = env_cap ? env_cap * 2 : 16;
        char **n = malloc(cap * sizeof(char *));
        if (!n)
            return -1;
        if (env_count)
            memcpy(n, environ, env_count * sizeof(char *));
        environ = n;
        env_cap = cap;
    }
    environ[env_count++] = copy;
    environ[env_count] = 0;
    return 0;
}

int setenv(const char *name, const char *value, int overwrite)
{
    if (!name || !*name || strchr(name, '=')) {
        errno = EINVAL;
        return -1;
    }
    if (!overwrite && getenv(name))
        return 0;
    size_t a = strlen(name), b = strlen(value);
    char *s = malloc(a + b + 2);
    if (!s) {
        errno = ENOMEM;
        return -1;
    }
    memcpy(s, name, a);
    s[a] = '=';
    memcpy(s + a + 1, value, b + 1);
    int r = xp_env_put(s);
    free(s);
    return r;
}

int putenv(char *s)
{
    return xp_env_put(s);
}

int unsetenv(const char *name)
{
    if (!name || !*name || strchr(name, '=')) {
        errno = EINVAL;
        return -1;
    }
    size_t len = strlen(name);
    long i;
    while ((i = find(name, len)) >= 0) {
        memmove(&environ[i], &environ[i + 1], (env_count - (size_t)i) * sizeof(char *));
        env_count--;
    }
    return 0;
}

int clearenv(void)
{
    env_count = 0;
    if (env_cap)
        environ[0] = 0;
    return 0;
}

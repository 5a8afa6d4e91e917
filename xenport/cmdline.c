/* xenport: the kernel command line as argv and the environment.
 *
 * Words are split as a POSIX shell would without expansions: blanks separate,
 * '...' is literal, "..." is literal except for \" \\ \$ \` (and a backslash-
 * newline), a backslash outside quotes quotes the next character.
 *
 * Leading words of the form NAME=value set environment variables (as
 * `env NAME=value cogxen ...`), leading --xen-* words are options for xenport
 * itself; everything from the first other word on belongs to the VM.
 */
#include <stdlib.h>
#include <string.h>

#include "xenport/cmdline.h"
#include "xenport/platform.h"

/* Split s into words; *argc words in a NULL-terminated malloc'd array.
   Answers NULL (and sets *error) on an unterminated quote. */
char **xp_split_words(const char *s, int *argc, const char **error)
{
    size_t cap = 8, n = 0;
    char **words = malloc(cap * sizeof(char *));
    char *buf = malloc(strlen(s) + 1);
    if (!words || !buf)
        xp_panic("out of memory splitting the command line");
    *error = 0;
    const char *p = s;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        if (!*p)
            break;
        size_t len = 0;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            if (*p == '\'') {
                p++;
                while (*p && *p != '\'')
                    buf[len++] = *p++;
                if (!*p) {
                    *error = "unterminated ' quote";
                    goto fail;
                }
                p++;
            } else if (*p == '"') {
                p++;
                while (*p && *p != '"') {
                    if (*p == '\\' && (p[1] == '"' || p[1] == '\\' || p[1] == '$' ||
                                       p[1] == '`')) {
                        buf[len++] = p[1];
                        p += 2;
                    } else if (*p == '\\' && p[1] == '\n') {
                        p += 2;
                    } else {
                        buf[len++] = *p++;
                    }
                }
                if (!*p) {
                    *error = "unterminated \" quote";
                    goto fail;
                }
                p++;
            } else if (*p == '\\') {
                p++;
                if (*p)
                    buf[len++] = *p++;
            } else {
                buf[len++] = *p++;
            }
        }
        if (n + 2 > cap) {
            cap *= 2;
            words = realloc(words, cap * sizeof(char *));
            if (!words)
                xp_panic("out of memory splitting the command line");
        }
        words[n] = malloc(len + 1);
        if (!words[n])
            xp_panic("out of memory splitting the command line");
        memcpy(words[n], buf, len);
        words[n][len] = 0;
        n++;
    }
    free(buf);
    words[n] = 0;
    *argc = (int)n;
    return words;
fail:
    free(buf);
    for (size_t i = 0; i < n; i++)
        free(words[i]);
    free(words);
    *argc = 0;
    return 0;
}

int xp_is_assignment(const char *w)
{
    const char *p = w;
    if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || *p == '_'))
        return 0;
    while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
           (*p >= '0' && *p <= '9') || *p == '_')
        p++;
    return *p == '=';
}

/* xenport: command-line words (cmdline.c) and the environment (libc/env.c). */
#ifndef XENPORT_CMDLINE_H
#define XENPORT_CMDLINE_H

char **xp_split_words(const char *s, int *argc, const char **error);
int xp_is_assignment(const char *word);
/* Install NAME=value in the environment (copied). */
int xp_env_put(const char *assignment);

#endif

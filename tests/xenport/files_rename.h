/* Forced include (-include) of xenport/files.c in the host test of the guest's
 * file system (tests/xenport/test_files_host.py): files.c defines the C
 * library's file calls, which glibc has too.  The host's headers come first,
 * under their own names; then each call files.c defines becomes xpt_NAME
 * (function-like macros, so that `struct stat` keeps its name), for
 * files_driver.c to call beside the host's own.
 */
#ifndef XENPORT_TEST_FILES_RENAME_H
#define XENPORT_TEST_FILES_RENAME_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#undef open
#undef open64
#undef stat
#undef fstat
#undef lstat
#define open(...)       xpt_open(__VA_ARGS__)
#define open64(...)     xpt_open64(__VA_ARGS__)
#define openat(...)     xpt_openat(__VA_ARGS__)
#define creat(...)      xpt_creat(__VA_ARGS__)
#define close(...)      xpt_close(__VA_ARGS__)
#define read(...)       xpt_read(__VA_ARGS__)
#define write(...)      xpt_write(__VA_ARGS__)
#define pread(...)      xpt_pread(__VA_ARGS__)
#define lseek(...)      xpt_lseek(__VA_ARGS__)
#define fstat(...)      xpt_fstat(__VA_ARGS__)
#define stat(...)       xpt_stat(__VA_ARGS__)
#define lstat(...)      xpt_lstat(__VA_ARGS__)
#define fstatat(...)    xpt_fstatat(__VA_ARGS__)
#define access(...)     xpt_access(__VA_ARGS__)
#define isatty(...)     xpt_isatty(__VA_ARGS__)
#define fsync(...)      xpt_fsync(__VA_ARGS__)
#define fdatasync(...)  xpt_fdatasync(__VA_ARGS__)
#define ftruncate(...)  xpt_ftruncate(__VA_ARGS__)
#define unlink(...)     xpt_unlink(__VA_ARGS__)
#define rmdir(...)      xpt_rmdir(__VA_ARGS__)
#define rename(...)     xpt_rename(__VA_ARGS__)
#define mkdir(...)      xpt_mkdir(__VA_ARGS__)
#define chmod(...)      xpt_chmod(__VA_ARGS__)
#define chown(...)      xpt_chown(__VA_ARGS__)
#define readlink(...)   xpt_readlink(__VA_ARGS__)
#define opendir(...)    xpt_opendir(__VA_ARGS__)
#define readdir(...)    xpt_readdir(__VA_ARGS__)
#define closedir(...)   xpt_closedir(__VA_ARGS__)
#define dup(...)        xpt_dup(__VA_ARGS__)
#define dup2(...)       xpt_dup2(__VA_ARGS__)
#define getcwd(...)     xpt_getcwd(__VA_ARGS__)
#define chdir(...)      xpt_chdir(__VA_ARGS__)
#define fcntl(...)      xpt_fcntl(__VA_ARGS__)

int xpt_dup(int fd);          /* open() answers a console stream by dup() */

#endif

/* xenport: the part of <valgrind/valgrind.h> RPython's JIT uses (its common
   header includes it when the JIT is on).  There is no Valgrind in the guest:
   the client requests do nothing, as they do outside Valgrind. */
#ifndef XENPORT_STUB_VALGRIND_H
#define XENPORT_STUB_VALGRIND_H

#define RUNNING_ON_VALGRIND 0
#define VALGRIND_DISCARD_TRANSLATIONS(addr, len) ((void)(addr), (void)(len))

#endif

"""The interrupt alarm: a flag in memory that compiled code reads at every send and
backward jump, raised by SIGALRM at the VM's next timer deadline (or by the VM
itself for a request of its own, such as low space).

Reading a word costs a load and a guard that holds until the flag is raised: a
countdown decremented at every send instead made a guard fail every thousand sends,
at a different place each time, and the JIT never compiled bridges for them.

The flag is RPython's signal word (rsignal's pypysig_counter, which its SIGALRM
handler sets to -1), the timer a one-shot setitimer(ITIMER_REAL) armed for the next
deadline only: no periodic signals. Where there is no interval timer (xenport's
setitimer fails) start() answers False and the interpreter keeps counting sends.

SIGTERM (which xenport delivers for `xl shutdown` and `xl reboot`) raises the same
flag once the image has asked for it (catch_termination): clear() then answers that
the host wants the VM to stop. SIGUSR1 asks for every process's stack on stderr, as
the OpenSmalltalk VM prints them: the way to see where a busy or stuck image is.
"""

from rpython.rlib import jit
from rpython.rlib.objectmodel import we_are_translated
from rpython.rtyper.lltypesystem import lltype, rffi


class _State(object):
    started = False
    catching = False
    stacks = False          # SIGUSR1 raises the flag


# What clear() answers: the requests that came with the flag.
TERMINATE = 1
PRINT_STACKS = 2


state = _State()
_untranslated_word = []
_untranslated_pending = []      # signal numbers "delivered" by tests


def _signal_word():
    from rpython.rlib import rsignal
    if we_are_translated():
        return rsignal.pypysig_getaddr_occurred()
    # Untranslated: a word of our own, raised by tests as the handler would.
    if not _untranslated_word:
        _untranslated_word.append(lltype.malloc(rsignal.LONG_STRUCT, flavor='raw',
                                                immortal=True, zero=True))
    return _untranslated_word[0]


def raised():
    """The alarm went off (or the VM asked for an interrupt check)."""
    return _signal_word().c_value < 0


def raise_flag():
    _signal_word().c_value = -1


@jit.dont_look_inside
def clear():
    """Lower the flag; answer the requests that came (TERMINATE: SIGTERM, once the
    image catches it; PRINT_STACKS: SIGUSR1), 0 for none."""
    from rpython.rlib import rsignal
    _signal_word().c_value = 0
    requests = 0
    if not we_are_translated():
        for signum in _untranslated_pending:
            requests |= _request(signum)
        del _untranslated_pending[:]
    elif state.started or state.catching or state.stacks:
        while True:
            signum = rsignal.pypysig_poll()
            if signum < 0:
                break
            requests |= _request(signum)
    return requests


def _request(signum):
    from rpython.rlib import rsignal
    if signum == rsignal.SIGTERM and state.catching:
        return TERMINATE
    if signum == rsignal.SIGUSR1:
        return PRINT_STACKS
    return 0


def deliver(signum):
    """Untranslated: what the signal handler does (for tests)."""
    _untranslated_pending.append(signum)
    raise_flag()


def _untranslated_handler(signum, frame):
    deliver(signum)


@jit.dont_look_inside
def catch_termination(on):
    """SIGTERM raises the flag, and clear() answers it, instead of ending the VM
    (on), or ends it again as the host's default does (off)."""
    state.catching = on
    if not we_are_translated():
        import signal
        signal.signal(signal.SIGTERM, _untranslated_handler if on else signal.SIG_DFL)
        return
    from rpython.rlib import rsignal
    if on:
        rsignal.pypysig_setflag(rsignal.SIGTERM)
        rsignal.c_siginterrupt(rsignal.SIGTERM, 0)   # other calls restart
    else:
        rsignal.pypysig_default(rsignal.SIGTERM)


@jit.dont_look_inside
def start():
    """Install the SIGALRM and SIGUSR1 handlers; answer whether the alarm works here
    (translated, with an interval timer). System calls they interrupt restart
    (SA_RESTART); a sleep ends early, which its callers allow for."""
    if not we_are_translated():
        import signal
        try:
            signal.signal(signal.SIGUSR1, _untranslated_handler)
            state.stacks = True
        except ValueError:
            pass                    # not the main thread: no requests then
        return False
    from rpython.rlib import rsignal
    rsignal.pypysig_setflag(rsignal.SIGUSR1)
    rsignal.c_siginterrupt(rsignal.SIGUSR1, 0)
    state.stacks = True
    rsignal.pypysig_setflag(rsignal.SIGALRM)
    rsignal.c_siginterrupt(rsignal.SIGALRM, 0)
    if not _set_timer(0):
        rsignal.pypysig_default(rsignal.SIGALRM)
        return False
    state.started = True
    return True


@jit.dont_look_inside
def arm(usecs):
    """Raise the flag in usecs microseconds (at least 1); 0 disarms."""
    if state.started:
        _set_timer(usecs)


def _set_timer(usecs):
    from rpython.rlib import rsignal
    with lltype.scoped_alloc(rsignal.itimervalP.TO, 1) as new:
        rffi.setintfield(new[0].c_it_interval, 'c_tv_sec', 0)
        rffi.setintfield(new[0].c_it_interval, 'c_tv_usec', 0)
        rffi.setintfield(new[0].c_it_value, 'c_tv_sec', usecs / 1000000)
        rffi.setintfield(new[0].c_it_value, 'c_tv_usec', usecs % 1000000)
        result = rsignal.c_setitimer(rsignal.ITIMER_REAL, new,
                                     lltype.nullptr(rsignal.itimervalP.TO))
    return rffi.cast(lltype.Signed, result) == 0

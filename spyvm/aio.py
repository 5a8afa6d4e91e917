"""Asynchronous I/O, as the OpenSmalltalk VM's aio: the descriptors the image waits
on (sockets), looked at together by one poll.

A Watcher names a descriptor and the readiness it wants now (POLLIN, POLLOUT);
wants are one-shot, as the plugins arm them from a primitive just before the image
waits on a semaphore. poll() runs the handlers of the descriptors that became
ready; they change the plugin's state and signal the image's semaphores by index.
The interpreter polls when the idle process has nothing to do (waiting up to the
next timer deadline) and, while anything is watched, every POLL_INTERVAL_USECS
from its interrupt check, so that a busy process does not hide the network.
"""

from rpython.rlib import jit

from spyvm.platform import network

POLL_INTERVAL_USECS = 20000


class Watcher(object):
    """A descriptor some plugin waits on; subclasses say what they want and handle it."""

    fd = -1

    def wanted(self):
        """POLLIN and/or POLLOUT, or 0 for nothing now."""
        return 0

    def ready(self, interp, revents):
        """The descriptor became ready (revents, with POLLERR/POLLHUP as they came)."""


class Watchers(object):
    def __init__(self):
        self.watchers = []

    def add(self, watcher):
        self.watchers.append(watcher)

    def remove(self, watcher):
        for i in range(len(self.watchers)):
            if self.watchers[i] is watcher:
                del self.watchers[i]
                return

    def waiting(self):
        """Whether a poll would look at anything."""
        for watcher in self.watchers:
            if watcher.fd >= 0 and watcher.wanted() != 0:
                return True
        return False

    @jit.dont_look_inside
    def poll(self, interp, timeout_usecs):
        """Wait up to timeout_usecs (0: just look; -1: until something happens or a
        signal comes) and run the handlers of what became ready; answer how many ran."""
        fds = []
        events = []
        chosen = []
        for watcher in self.watchers:
            wanted = watcher.wanted()
            if watcher.fd >= 0 and wanted != 0:
                fds.append(watcher.fd)
                events.append(wanted)
                chosen.append(watcher)
        if not fds:
            return 0
        if timeout_usecs < 0:
            timeout_ms = -1
        else:
            timeout_ms = (timeout_usecs + 999) / 1000
        try:
            revents = network.poll(fds, events, timeout_ms)
        except network.NetError:
            return 0
        ran = 0
        for i in range(len(chosen)):
            if revents[i] != 0:
                chosen[i].ready(interp, revents[i])
                ran += 1
        return ran


watchers = Watchers()

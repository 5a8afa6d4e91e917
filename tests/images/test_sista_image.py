"""tp-location-app.image: a CodeParadise client image whose 1,923 methods are all
SistaV1 with CompiledBlocks and FullBlockClosures.

At start-up it prints its banner, rebuilds its Symbol table through CpSystemPlugin,
starts its idle process, creates its client environment and opens a WebSocket to
its server: a JavaScript object, which a headless VM has not, so that primitive
fails and the image reports the failure on stderr with its own stack trace and
ends that process. Its idle process then waits (primitive 230 without an
argument, as SqueakJS takes it) for an event that nothing can send: no timer, no
socket. The VM says so (a deadlock) and the run ends with status 1.
"""

import os
import shutil

from imagerun import Run, find_image, remove_tree

STARTUP = ["CodeParadise tiny image", "Creating Symbol table\n", "Starting idle process\n",
           "Creating client environment and starting communication\n"]
DEADLOCK = ("deadlock: every process is waiting and nothing can wake one "
            "(no timer is set and no socket is waited on)")
WEBSOCKET_FAILURE = ("a primitive has failed in CpJavaScriptWebSocketChannel >> "
                     "#connectToUrl:withEventSemaphore:")


def test_tp_location_app_runs_until_it_needs_a_websocket(tmpdir):
    folder = str(tmpdir.mkdir("run"))
    image = os.path.join(folder, "tp.image")
    shutil.copy(find_image("tp-location-app.image"), image)
    result = Run([image], timeout=180, cwd=folder).finish()
    remove_tree(folder)
    assert not result.timed_out and result.status == 1, result.describe()
    position = 0
    for line in STARTUP:
        assert line in result.stdout[position:], result.describe()
        position = result.stdout.index(line, position)
    assert WEBSOCKET_FAILURE in result.stderr, result.describe()
    assert result.stderr.endswith("cogxen: fatal: " + DEADLOCK + "\n"), result.describe()
    assert "malformed method" not in result.stderr


# --- a V3PlusClosures image converted by cogxen-image convert --bytecodes sistav1 ----

def test_headless_image_converted_to_sista_resumes_as_before(tmpdir):
    # headless.image (Spur, V3PlusClosures) resumes, logs its start-up and quits;
    # every one of its methods in SistaV1, it does the same.
    import sys
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))))
    from spyvm import imagetool, model
    folder = str(tmpdir.mkdir("run"))
    image = os.path.join(folder, "headless-sista.image")
    imagetool.convert(None, find_image("headless.image"), image, 0, "sistav1")
    methods = [w for w in imagetool.read(image).objects_w
               if isinstance(w, model.W_CompiledMethod)]
    assert methods and all(w.sista for w in methods)
    result = Run([image], timeout=180, cwd=folder).finish()
    remove_tree(folder)
    assert (result.status, result.stdout, result.stderr) == \
        (0, "Smalltalk image fired up!\nFixing the world\n3 + 4 = 7\n", ""), result.describe()

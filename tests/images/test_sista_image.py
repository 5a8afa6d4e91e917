"""tp-location-app.image: a CodeParadise client image whose 1,923 methods are all
SistaV1 with CompiledBlocks and FullBlockClosures.

At start-up it prints its banner, rebuilds its Symbol table through CpSystemPlugin,
starts its idle process, creates its client environment and opens a WebSocket to
its server: a JavaScript object, which a headless VM has not, so that primitive
fails and the image reports the failure on stderr with its own stack trace, ends
that process and leaves its idle process running (it would wait for the server
for ever). The run is killed once the failure is seen.
"""

import os
import shutil
import time

from imagerun import Run, find_image, remove_tree

STARTUP = ["CodeParadise tiny image", "Creating Symbol table\n", "Starting idle process\n",
           "Creating client environment and starting communication\n"]
WEBSOCKET_FAILURE = ("a primitive has failed in CpJavaScriptWebSocketChannel >> "
                     "#connectToUrl:withEventSemaphore:")


def test_tp_location_app_runs_until_it_needs_a_websocket(tmpdir):
    folder = str(tmpdir.mkdir("run"))
    image = os.path.join(folder, "tp.image")
    shutil.copy(find_image("tp-location-app.image"), image)
    run = Run([image], timeout=180, cwd=folder)
    try:
        assert run.wait_for_stdout(STARTUP[-1], timeout=150), run.finish().describe()
        deadline = time.time() + 60
        while WEBSOCKET_FAILURE not in run.stderr_so_far() and time.time() < deadline \
                and run.process.poll() is None:
            time.sleep(0.1)
        stdout = run.stdout_so_far()
        stderr = run.stderr_so_far()
    finally:
        run.kill()
        run.finish()
        remove_tree(folder)
    position = 0
    for line in STARTUP:
        assert line in stdout[position:], stdout[:2000]
        position = stdout.index(line, position)
    assert WEBSOCKET_FAILURE in stderr, stderr[:2000]
    assert "cogxen: fatal" not in stderr and "malformed method" not in stderr

"""The command line of app.py: defaults that keep the app private, and flags checked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app import parse_args
from heurist_ui.app import MALLOC_ARENAS


def test_defaults_listen_on_loopback_with_no_cap_on_generations(monkeypatch):
    monkeypatch.delenv("GRADIO_SERVER_NAME", raising=False)
    monkeypatch.delenv("GRADIO_SERVER_PORT", raising=False)

    args = parse_args([])

    assert (args.host, args.port, args.concurrency) == ("127.0.0.1", 7860, None)
    assert not args.share and not args.sandbox and args.auth is None


def test_spaces_settings_choose_the_interface_and_port(monkeypatch):
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "7861")

    args = parse_args([])

    assert (args.host, args.port) == ("0.0.0.0", 7861)


def test_flags_are_read(monkeypatch):
    args = parse_args(["--share", "--auth", "me:pa:ss", "--sandbox", "--concurrency", "4"])

    assert args.share and args.sandbox and args.concurrency == 4
    assert args.auth == "me:pa:ss"


@pytest.mark.parametrize("argv", [["--auth", "no-colon"], ["--concurrency", "0"]])
def test_bad_flags_are_refused_with_a_message(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        parse_args(argv)

    assert exited.value.code == 2
    assert argv[0] in capsys.readouterr().err  # the message names the flag to fix


def test_the_app_refuses_to_serve_its_own_folder(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, str(repo / "app.py"), "--env-file", str(tmp_path / "none.env")],
        env={"PATH": "/usr/bin:/bin", "HEURIST_OUTPUT_DIR": str(repo), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode != 0
    assert "holds the app's own files" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("concurrency", [None, 2])
def test_the_queue_never_turns_a_caller_away(settings, concurrency):
    from app import build_app

    demo, studio = build_app(settings, concurrency=concurrency)
    try:
        assert demo._queue.max_size is None  # a full queue cannot happen: callers wait instead
        # Places in the queue go out once a second, not to every waiting caller at each start.
        assert demo._queue.live_updates is False and demo._queue.update_intervals == 1.0
    finally:
        studio.close()


def test_the_rate_limit_flag_is_read():
    assert parse_args(["--rate-limit", "12"]).rate_limit == "12"
    assert parse_args([]).rate_limit is None


def test_a_start_up_check_that_timed_out_is_tried_again(monkeypatch):
    import gradio as gr
    import requests
    from gradio import networking

    from heurist_ui.ui import serve

    answers = iter([False])  # the first check fails as on a loaded machine; then Gradio's own
    real_check = networking.url_ok
    monkeypatch.setattr(networking, "url_ok", lambda url: next(answers, None) or real_check(url))
    with gr.Blocks() as demo:
        gr.Textbox("served")
    try:
        _, url, _ = serve(demo, prevent_thread_lock=True, quiet=True, server_name="127.0.0.1")
        assert requests.get(url, timeout=30).status_code == 200
        assert next(answers, "spent") == "spent"
    finally:
        demo.close()


# Counts glibc's malloc arenas once threads have each allocated: the limit's own check.
_ARENAS_SCRIPT = """
import ctypes, os, sys, tempfile, threading
sys.path.insert(0, {repo!r})
from heurist_ui.app import limit_malloc_arenas
print(limit_malloc_arenas() if sys.argv[1] == "limited" else "unlimited")
ready = threading.Barrier(16)
def allocate():
    ready.wait()  # every thread alive at once: none can inherit a finished thread's arena
    kept = [bytearray(100_000) for _ in range(20)]  # below the mmap threshold: from an arena
    ready.wait()
threads = [threading.Thread(target=allocate) for _ in range(16)]
for thread in threads: thread.start()
for thread in threads: thread.join()
libc = ctypes.CDLL(None)
libc.fopen.restype = ctypes.c_void_p
path = tempfile.mktemp()
stream = libc.fopen(path.encode(), b"w")
libc.malloc_info(0, ctypes.c_void_p(stream))
libc.fclose(ctypes.c_void_p(stream))
print(open(path).read().count("<heap nr="))
os.remove(path)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc arenas")
def test_the_app_caps_malloc_arenas_so_page_views_leave_no_free_memory_behind():
    def arenas(mode: str, **env: str) -> list[str]:
        script = _ARENAS_SCRIPT.format(repo=str(Path(__file__).resolve().parent.parent))
        environ = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | env
        done = subprocess.run(
            [sys.executable, "-c", script, mode],
            env=environ,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return done.stdout.split()

    assert arenas("limited") == ["True", str(MALLOC_ARENAS)]
    unlimited = arenas("unlimited")
    assert int(unlimited[1]) > MALLOC_ARENAS  # threads do get arenas of their own otherwise
    # Whoever sets MALLOC_ARENA_MAX decides: the app leaves it alone.
    assert arenas("limited", MALLOC_ARENA_MAX="4")[0] == "False"

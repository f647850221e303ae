"""The command line as a subprocess against the sandbox over HTTP: output, files, exit codes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from heurist_ui.ctrl_c import interrupt_after
from heurist_ui.pngfile import read_png_metadata

REPO = Path(__file__).resolve().parent.parent


def run_cli(env: dict, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "heurist_ui", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert "Traceback" not in result.stderr
    assert "CLI-SECRET-KEY" not in result.stdout + result.stderr
    return result


def saved_paths(result: subprocess.CompletedProcess) -> list[Path]:
    return [Path(line) for line in result.stdout.splitlines() if line.strip()]


def test_generate_saves_every_image_with_its_parameters(cli_env, sandbox):
    result = run_cli(
        cli_env,
        "generate",
        "a lighthouse at dusk",
        "-n",
        "3",
        "--width",
        "512",
        "--height",
        "512",
        "--seed",
        "40",
    )
    assert result.returncode == 0, result.stderr
    paths = saved_paths(result)
    assert len(paths) == 3 and all(path.is_file() for path in paths)
    seeds = sorted(read_png_metadata(path)[1]["seed"] for path in paths)
    assert seeds == [40, 41, 42]
    text, record = read_png_metadata(paths[0])
    assert text.startswith("a lighthouse at dusk\n")
    assert (record["width"], record["height"]) == (512, 512)
    assert "3 of 3 images saved" in result.stderr
    assert len(sandbox.submissions) == 3


def test_out_chooses_the_folder(cli_env, tmp_path):
    result = run_cli(cli_env, "generate", "a cat", "--out", str(tmp_path / "elsewhere"))
    assert result.returncode == 0
    (path,) = saved_paths(result)
    assert (tmp_path / "elsewhere") in path.parents


def test_prompts_file_runs_one_set_per_line(cli_env, tmp_path, sandbox):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("# a comment\na red fox\n\na tram in the rain\n  a paper boat  \n")
    result = run_cli(
        cli_env,
        "generate",
        "--prompts",
        str(prompts),
        "-n",
        "2",
        "--width",
        "256",
        "--height",
        "256",
        "--concurrency",
        "4",
    )
    assert result.returncode == 0, result.stderr
    sent = sorted(sub.payload["model_input"]["SD"]["prompt"] for sub in sandbox.submissions)
    assert sent == sorted(["a red fox", "a tram in the rain", "a paper boat"] * 2)
    assert len(saved_paths(result)) == 6


def test_variations_expand_and_the_template_is_recorded(cli_env, sandbox):
    result = run_cli(cli_env, "generate", "a {red|blue} kite", "--width", "256", "--height", "256")
    assert result.returncode == 0, result.stderr
    records = [read_png_metadata(path)[1] for path in saved_paths(result)]
    assert sorted(record["prompt"] for record in records) == ["a blue kite", "a red kite"]
    assert {record["prompt_template"] for record in records} == {"a {red|blue} kite"}


def test_a_prompts_file_is_checked_whole_before_anything_is_sent(cli_env, tmp_path, sandbox):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("a red fox\nan {unclosed brace\n")
    result = run_cli(cli_env, "generate", "--prompts", str(prompts))
    assert result.returncode == 2
    assert "prompts.txt line 2" in result.stderr and "never closed" in result.stderr
    assert sandbox.submissions == []


def test_a_prompts_file_splits_on_newlines_only(cli_env, tmp_path, sandbox):
    prompts = tmp_path / "prompts.txt"
    # U+2028, U+2029, a form feed, \x1c-\x1e and \x85 are inside lines, not line ends.
    first = "a red fox\u2028in the snow\x0cat dawn\x1cbright"
    second = "a tram\u2029in the rain\x1d\x1e\x85wet"
    prompts.write_bytes(f"{first}\r\n{second}\n".encode())
    result = run_cli(
        cli_env, "generate", "--prompts", str(prompts), "--width", "256", "--height", "256"
    )
    assert result.returncode == 0, result.stderr
    sent = sorted(sub.payload["model_input"]["SD"]["prompt"] for sub in sandbox.submissions)
    assert len(sent) == 2
    assert sent[0].startswith("a red fox") and sent[0].endswith("bright")
    assert sent[1].startswith("a tram") and sent[1].endswith("wet")


def test_every_bad_line_of_a_prompts_file_is_named_and_nothing_is_sent(cli_env, tmp_path, sandbox):
    prompts = tmp_path / "prompts.txt"
    lines = ["a red fox", "{a|b}" * 9000, "an {unclosed brace", "# a comment", "x" * 9000]
    prompts.write_text("\n".join(lines) + "\n")
    result = run_cli(cli_env, "generate", "--prompts", str(prompts))
    assert result.returncode == 2
    assert "prompts.txt line 1" not in result.stderr
    assert "prompts.txt line 2: The prompt is too long (45000 characters" in result.stderr
    assert "prompts.txt line 3" in result.stderr and "never closed" in result.stderr
    assert "prompts.txt line 5: The prompt is too long (9000 characters" in result.stderr
    assert "Nothing was sent" in result.stderr
    assert sandbox.submissions == []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["generate", "   "], "prompt is empty"),
        (["generate", "a cat", "--model", "NoSuchModel"], "Unknown model"),
        (["generate", "a cat", "--width", "5000"], "Width must be between"),
        (["generate", "a cat", "-n", "9"], "from 1 to 8"),
        (["generate", "--prompts", "missing.txt"], "cannot read missing.txt"),
        (["generate"], "give a prompt"),
        (["generate", "a cat", "--steps", "lots"], "invalid float value"),
        (["cost", "--model", "NoSuchModel"], "Unknown model"),
    ],
)
def test_bad_usage_exits_2_with_a_message_and_sends_nothing(cli_env, sandbox, args, words):
    result = run_cli(cli_env, *args)
    assert result.returncode == 2
    assert words in result.stderr
    assert sandbox.submissions == []


def test_no_key_exits_2_and_says_how_to_set_one(cli_env, sandbox):
    del cli_env["HEURIST_API_KEY"]
    result = run_cli(cli_env, "generate", "a cat", "--env-file", "none.env")
    assert result.returncode == 2
    assert "HEURIST_API_KEY" in result.stderr and "--sandbox" in result.stderr
    assert sandbox.submissions == []


def test_failed_jobs_exit_1_with_the_count_and_reason(cli_env, sandbox):
    cli_env["HEURIST_API_KEY"] = "no-credits"
    result = run_cli(cli_env, "generate", "a cat", "-n", "2", "--width", "256", "--height", "256")
    assert result.returncode == 1
    assert "2 of 2 images failed" in result.stderr and "(402)" in result.stderr


def test_a_rejected_key_exits_1_and_never_shows_the_key(cli_env, sandbox):
    sandbox.add_fault("status", status=401, body="bad key CLI-SECRET-KEY", times=1)
    result = run_cli(cli_env, "generate", "a cat", "--width", "256", "--height", "256")
    assert result.returncode == 1
    assert "(401)" in result.stderr


def test_ctrl_c_stops_sending_waits_for_sent_jobs_and_exits_130(cli_env, sandbox):
    gate = sandbox.hold()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "heurist_ui",
            "generate",
            "a slow sunrise",
            "-n",
            "8",
            "--width",
            "256",
            "--height",
            "256",
            "--concurrency",
            "2",
        ],
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    gate.wait_for(2)  # both workers' jobs are at the API, held there
    process.send_signal(signal.SIGINT)
    err = ""
    while "Stopping:" not in err:  # the CLI has dropped the unsent jobs
        line = process.stderr.readline()
        assert line, f"the CLI ended without stopping: {err}"
        err += line
    gate.release()  # only now do the two sent jobs end
    err += process.stderr.read()
    out = process.stdout.read()
    assert process.wait(timeout=60) == 130
    assert "Traceback" not in err
    assert "6 jobs not sent" in err and "2 of 8 images saved" in err
    assert len(out.splitlines()) == 2  # the two jobs already sent were kept
    assert len(sandbox.submissions) == 2


def test_models_lists_names_kinds_and_sizes(cli_env):
    result = run_cli(cli_env, "models")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["MODEL", "KIND"]
    flux = next(line for line in lines if line.startswith("FLUX.1-dev"))
    assert "FLUX" in flux and "2048×2048" in flux
    assert any(line.startswith("SDXL ") for line in lines)


def test_cost_prints_the_estimate(cli_env, sandbox):
    result = run_cli(
        cli_env,
        "cost",
        "--model",
        "SDXL",
        "--width",
        "1024",
        "--height",
        "1024",
        "--steps",
        "20",
        "-n",
        "4",
    )
    assert result.returncode == 0
    assert "1.000 credits per image, 4.000 credits for 4 images" in result.stdout
    assert sandbox.submissions == []


def test_cost_prices_exactly_what_generate_would_run(cli_env, sandbox, tmp_path):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("a {red|blue} kite\na lighthouse\n", encoding="utf-8")
    flags = ["--width", "512", "--height", "512", "--steps", "20", "-n", "2"]
    priced = run_cli(cli_env, "cost", "--prompts", str(prompts), *flags)
    assert priced.returncode == 0, priced.stderr
    assert "0.250 credits per image, 1.500 credits for 6 images from 2 lines" in priced.stdout
    made = run_cli(cli_env, "generate", "--prompts", str(prompts), *flags)
    assert made.returncode == 0 and len(saved_paths(made)) == len(sandbox.submissions) == 6
    refused = run_cli(cli_env, "cost", "{a|b|c} {1|2|3}", "-n", "8")
    assert refused.returncode == 2 and "72 images" in refused.stderr


def test_sandbox_flag_needs_no_key_and_no_settings(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEURIST_")}
    env.update(PYTHONPATH=str(REPO), HEURIST_CACHE_DIR=str(tmp_path / "cache"))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "heurist_ui",
            "generate",
            "a cat",
            "--sandbox",
            "--width",
            "256",
            "--height",
            "256",
            "--out",
            str(tmp_path / "out"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    (path,) = saved_paths(result)
    assert path.is_file()


def test_a_ctrl_c_while_jobs_are_handed_over_is_raised_once_they_all_are():
    handed, before = [], signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt), interrupt_after():
        os.kill(os.getpid(), signal.SIGINT)
        handed.append("every job")  # still runs: the interrupt waits for the block's end
    assert handed == ["every job"]
    assert signal.getsignal(signal.SIGINT) is before

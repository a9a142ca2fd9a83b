"""What a hosted Space and a container need: no tracked file over 10 MiB, front matter that matches the
pinned Gradio and Python, and a Dockerfile that builds (where Docker runs)."""
import platform
import re
import shutil
import subprocess

import pytest

from tests.conftest import ROOT

MAX_FILE_BYTES = 10 * 2 ** 20  # a Space refuses a file over 10 MiB pushed without Git LFS


def _git_files(*flags: str) -> list[str]:
    return subprocess.run(["git", "ls-files", "-z", *flags], cwd=ROOT, check=True, capture_output=True,
                          text=True).stdout.split("\0")


def test_no_tracked_or_shipped_file_is_over_10_mib():
    names = set(_git_files()) | set(_git_files("--others", "--exclude-standard", "assets"))
    paths = [ROOT / name for name in names if name and (ROOT / name).is_file()]
    assert any(path.suffix == ".safetensors" for path in paths), "the shipped weights were not found"
    too_large = {str(path.relative_to(ROOT)): path.stat().st_size for path in paths
                 if path.stat().st_size > MAX_FILE_BYTES}
    assert too_large == {}


def test_front_matter_matches_the_pinned_gradio_and_python():
    front = (ROOT / "README.md").read_text(encoding="utf-8").split("---")[1]
    pinned = re.search(r"^gradio(?:\[[a-z,]+\])?==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    assert re.search(rf"^sdk_version: {re.escape(pinned)}$", front, re.M)
    major_minor = ".".join(platform.python_version_tuple()[:2])
    assert re.search(rf'^python_version: "{major_minor}"$', front, re.M)
    assert f"FROM python:{major_minor}-slim" in (ROOT / "Dockerfile").read_text()


def test_the_container_builds():
    if shutil.which("docker") is None:
        pytest.skip("docker is not installed")
    info = subprocess.run(["docker", "info"], capture_output=True, text=True)
    if info.returncode != 0:
        pytest.skip(f"the Docker daemon is not available: {(info.stderr or info.stdout).strip().splitlines()[-1:]}")
    built = subprocess.run(["docker", "build", "-t", "rnn-playground-test", "."], cwd=ROOT, capture_output=True,
                           text=True, timeout=1800)
    assert built.returncode == 0, built.stderr[-2000:]
    user = subprocess.run(["docker", "run", "--rm", "rnn-playground-test", "id", "-u"], capture_output=True,
                          text=True, timeout=120)
    assert user.stdout.strip() not in ("", "0")

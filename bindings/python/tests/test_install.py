"""pip installs the package from the source tree and from the build tree
without a network or a compiler, and the installed copy works."""
import os
import shutil
import subprocess
import sys

import nativeroute

from conftest import SOCKET

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def pip_install(src, target):
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-index",
                    "--no-build-isolation", "--no-deps", "--no-cache-dir", "--target", str(target),
                    src], check=True, env=dict(os.environ, PIP_NO_INPUT="1",
                                               PYTHONDONTWRITEBYTECODE="1"))


def run_installed(target, env_extra):
    code = ("import nativeroute, sys\n"
            "assert nativeroute.__file__.startswith(sys.argv[1]), nativeroute.__file__\n"
            "c = nativeroute.Client(sys.argv[2])\n"
            "print(nativeroute.__version__, c.status().routing_mode)\n")
    env = dict(os.environ, PYTHONPATH=str(target), PYTHONDONTWRITEBYTECODE="1", **env_extra)
    out = subprocess.run([sys.executable, "-c", code, str(target), SOCKET], env=env,
                         capture_output=True, text=True, cwd="/")
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def copy_of(tree, tmp_path):
    """pip builds in the directory it is given (build/, *.egg-info): give it
    a copy, so the tree under test stays clean."""
    dst = tmp_path / "src"
    shutil.copytree(tree, dst, ignore=shutil.ignore_patterns("tests", "__pycache__", "build",
                                                             "*.egg-info"))
    return str(dst)


def test_pip_install_from_the_source_tree(tmp_path):
    pip_install(copy_of(SRC, tmp_path), tmp_path / "site")
    tmp_path = tmp_path / "site"
    assert (tmp_path / "nativeroute" / "py.typed").exists()
    assert run_installed(tmp_path, {}) == [nativeroute.__version__, "native"]


def test_pip_install_from_the_build_tree_finds_the_built_library(tmp_path):
    build = os.path.join(os.environ["NR_BUILD_DIR"], "release-build", "bindings", "python")
    assert os.path.exists(os.path.join(build, "nativeroute", "_libdir.py")), build
    pip_install(copy_of(build, tmp_path), tmp_path / "site")
    tmp_path = tmp_path / "site"
    env = {"NATIVEROUTE_LIBRARY": ""}  # found through _libdir.py, not the environment
    assert run_installed(tmp_path, env) == [nativeroute.__version__, "native"]

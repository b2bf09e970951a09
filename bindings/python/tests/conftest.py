"""The daemon the tests drive: tests/integration/test_python_binding.sh
starts it in a network namespace and exports where it is. Without that
environment the tests are skipped (they need root and namespaces)."""
import os
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the package from this source tree

SOCKET = os.environ.get("NR_TEST_SOCKET")
NETNS = os.environ.get("NR_TEST_NETNS")

if not SOCKET:
    pytest.skip("run by tests/integration/test_python_binding.sh (needs a daemon)",
                allow_module_level=True)


@pytest.fixture
def socket_path() -> str:
    return SOCKET


@pytest.fixture
def client():
    import nativeroute
    with nativeroute.Client(SOCKET) as c:
        yield c


def kernel_routes() -> str:
    """The daemon namespace's routes of our protocol, as `ip` prints them."""
    return subprocess.run(["ip", "-n", NETNS, "route", "show", "proto", "201"], check=True,
                          capture_output=True, text=True).stdout


def wait_for(cond, seconds=5.0) -> bool:
    """Poll cond every 10 ms until it holds (True) or seconds pass (False)."""
    deadline = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True

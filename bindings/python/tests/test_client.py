"""The synchronous Client against a real daemon: every method, checked
against the kernel of the daemon's namespace where it changes something."""
import errno
import os
import subprocess
import sys
import time

import pytest

import nativeroute
from nativeroute import _lib

from conftest import SOCKET, kernel_routes, wait_for


def test_versions_follow_the_library():
    lib = tuple(int(x) for x in nativeroute.library_version().split("."))
    mine = tuple(int(x) for x in nativeroute.__version__.split("."))
    assert lib[0] == mine[0] and lib[:2] >= mine[:2]


def test_a_library_older_than_the_binding_is_refused_with_a_clear_message(monkeypatch):
    monkeypatch.setattr(_lib, "__version__", "1.99.0")
    with pytest.raises(ImportError, match=r"needs libnativeroute 1\.x >= 1\.99.*NATIVEROUTE_LIBRARY"):
        _lib.check_version()


def test_status(client):
    st = client.status()
    assert st.routing_mode == "native"
    assert st.ipam_mode == "cluster-pool"
    assert st.auto_direct_node_routes is True
    assert st.started is True
    assert st.nodes >= 1


def test_node_add_get_update_remove_reach_the_kernel(client):
    n = client.add_node("py-a", ipv4="192.168.1.21")
    assert n.name == "py-a" and n.ipv4 == "192.168.1.21" and n.ipv6 is None
    assert len(n.pod_cidrs) == 1 and n.pod_cidrs[0].startswith("10.0.")
    cidr = n.pod_cidrs[0]
    assert wait_for(lambda: "%s nhid" % cidr in kernel_routes() or
                    "%s via 192.168.1.21" % cidr in kernel_routes()), kernel_routes()
    got = client.node("py-a")
    assert got.pod_cidrs == [cidr] and got.state in ("native", "pending")
    assert "py-a" in [x.name for x in client.nodes()]
    up = client.update_node("py-a", ipv4="192.168.1.22", pod_cidrs=[cidr])
    assert up.ipv4 == "192.168.1.22"
    assert wait_for(lambda: "via 192.168.1.22" in kernel_routes()), kernel_routes()
    client.remove_node("py-a")
    assert wait_for(lambda: cidr not in kernel_routes()), kernel_routes()
    assert "py-a" not in [x.name for x in client.nodes()]


def test_errors_carry_errno_name_and_the_daemons_message(client):
    client.add_node("py-dup", ipv4="192.168.1.31")
    try:
        with pytest.raises(nativeroute.AlreadyExists) as e:
            client.add_node("py-dup", ipv4="192.168.1.32")
        assert e.value.errno == errno.EEXIST and e.value.name == "EEXIST"
        assert "py-dup" in e.value.message
        assert isinstance(e.value, nativeroute.NativeRouteError)
    finally:
        client.remove_node("py-dup")
    with pytest.raises(nativeroute.NotFound) as e:
        client.node("py-nosuch")
    assert e.value.errno == errno.ENOENT and "py-nosuch" in e.value.message
    with pytest.raises(nativeroute.InvalidArgument) as e:
        client.add_node("py-bad", ipv4="192.168.1.999")
    assert "192.168.1.999" in e.value.message


def test_pool_exhausted(client):
    """10.0.0.0/21 holds 8 node CIDRs; the local node has one."""
    added = []
    try:
        with pytest.raises(nativeroute.PoolExhausted) as e:
            for i in range(10):
                client.add_node("py-pool-%d" % i, ipv4="192.168.1.%d" % (100 + i))
                added.append("py-pool-%d" % i)
        assert e.value.errno == errno.ENOSPC and e.value.name == "ENOSPC"
        assert 1 <= len(added) <= 7
        ipam = client.ipam()
        assert ipam.used == ipam.total == 8
    finally:
        for name in added:
            client.remove_node(name)


def test_ipam_lists_every_allocation(client):
    client.add_node("py-ipam", ipv4="192.168.1.41")
    try:
        ipam = client.ipam()
        assert ipam.mode == "cluster-pool" and ipam.total == 8
        mine = [a for a in ipam.allocations if a.node == "py-ipam"]
        assert len(mine) == 1 and mine[0].cidr.startswith("10.0.")
        assert ipam.used == len(ipam.allocations)
    finally:
        client.remove_node("py-ipam")


def test_endpoints_and_routes(client):
    ep = client.add_endpoint("py-pod", ifname="vpa1")
    try:
        assert ep.id == "py-pod" and ep.ifname == "vpa1" and ep.ipv4.startswith("10.0.")
        assert ep.gateway4 and ep.ipv6 is None
        assert wait_for(lambda: "%s dev vpa1" % ep.ipv4 in kernel_routes()), kernel_routes()
        assert "py-pod" in [e.id for e in client.endpoints()]
        routes = client.routes()
        mine = [r for r in routes if r.dst == ep.ipv4 + "/32"]
        assert mine and mine[0].kind == "endpoint" and mine[0].dev == "vpa1"
    finally:
        client.remove_endpoint("py-pod")
    assert wait_for(lambda: "dev vpa1" not in kernel_routes()), kernel_routes()
    with pytest.raises(nativeroute.NotFound):
        client.remove_endpoint("py-pod")


def test_endpoint_get_answers_the_endpoint_as_added_and_listed(client):
    ep = client.add_endpoint("py-get", ifname="vpa2")
    try:
        got = client.endpoint("py-get")
        assert got == ep  # every field, mtu included
        assert got.ifname == "vpa2" and got.mtu == 1500  # native: the underlay's MTU
        assert got == [e for e in client.endpoints() if e.id == "py-get"][0]
        assert "%s dev vpa2" % got.ipv4 in kernel_routes()
    finally:
        client.remove_endpoint("py-get")
    with pytest.raises(nativeroute.NotFound) as e:
        client.endpoint("py-get")
    assert e.value.errno == errno.ENOENT and '"py-get"' in e.value.message
    with pytest.raises(nativeroute.InvalidArgument):  # refused before anything is sent
        client.endpoint("")


def test_mode_and_set_mode(client):
    m = client.mode()
    assert (m.mode, m.auto_direct_node_routes, m.direct_routing_skip_unreachable) == \
        ("native", True, False)
    try:
        m = client.set_mode("hybrid", direct_routing_skip_unreachable=True)
        assert (m.mode, m.direct_routing_skip_unreachable) == ("hybrid", True)
        assert client.status().routing_mode == "hybrid"
        with pytest.raises(nativeroute.InvalidArgument):
            client.set_mode("bogus")
        with pytest.raises(nativeroute.InvalidArgument):  # tunnel needs adnr off
            client.set_mode("tunnel", auto_direct_node_routes=True)
        assert client.mode().mode == "hybrid"  # refused = nothing changed
    finally:
        m = client.set_mode("native", direct_routing_skip_unreachable=False)
    assert (m.mode, m.direct_routing_skip_unreachable) == ("native", False)


def test_events_iterator(client):
    events = client.events()
    with nativeroute.Client(SOCKET) as other:
        other.add_node("py-ev", ipv4="192.168.1.51")
        try:
            seen = []
            for ev in events:
                seen.append(ev)
                if ev.type == "node.added" and ev.node == "py-ev":
                    break
            assert seen[-1].message and seen[-1].seq > 0
        finally:
            other.remove_node("py-ev")


def test_events_start_before_the_change():
    with nativeroute.Client(SOCKET) as watcher, nativeroute.Client(SOCKET) as actor:
        it = watcher.events()  # subscribed when it returns
        actor.add_node("py-ev2", ipv4="192.168.1.52")
        actor.remove_node("py-ev2")
        types = []
        for ev in it:
            if ev.node == "py-ev2":
                types.append(ev.type)
            if "node.removed" in types:
                break
        assert types[0] == "node.added" and types[-1] == "node.removed"


def test_a_read_only_peer_gets_permission_denied():
    """The socket is 0660 root: another user cannot even connect."""
    code = ("import nativeroute, sys\n"
            "try:\n    nativeroute.Client(sys.argv[1])\n"
            "except nativeroute.PermissionDenied as e:\n"
            "    print(e.errno, e.name); sys.exit(0)\nsys.exit(1)\n")
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(nativeroute.__file__)),
               PYTHONDONTWRITEBYTECODE="1")
    # the socket's directory must be reachable for the user to hit the socket's mode
    out = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                          sys.executable, "-c", code, SOCKET], env=env, capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr + out.stdout
    assert out.stdout.split() == [str(errno.EACCES), "EACCES"]


def test_a_closed_client_refuses_calls(socket_path):
    c = nativeroute.Client(socket_path)
    c.close()
    c.close()  # idempotent
    with pytest.raises(nativeroute.Cancelled):
        c.status()


def test_timeout_is_enforced_per_call(socket_path):
    """A daemon that never answers (a socket nobody reads) makes Timeout."""
    import socket as s
    import tempfile
    d = tempfile.mkdtemp()
    path = os.path.join(d, "mute.sock")
    srv = s.socket(s.AF_UNIX, s.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    try:
        c = nativeroute.Client(path, timeout=0.2)
        t0 = time.monotonic()
        with pytest.raises(nativeroute.Timeout) as e:
            c.status()
        assert 0.15 < time.monotonic() - t0 < 2.0
        assert e.value.errno == errno.ETIMEDOUT
        c.close()
    finally:
        srv.close()
        os.unlink(path)
        os.rmdir(d)


def test_events_raise_connection_lost_when_the_daemon_goes():
    sock, pid = os.environ.get("NR_TEST_VICTIM_SOCKET"), os.environ.get("NR_TEST_VICTIM_PID")
    if not sock or not pid:
        pytest.skip("no second daemon to stop")
    with nativeroute.Client(sock) as c:
        events = c.events()
        os.kill(int(pid), 15)
        with pytest.raises(nativeroute.ConnectionLost) as e:
            for _ in events:
                pass
        assert e.value.errno in (errno.ECONNRESET, errno.EPROTO)
        with pytest.raises(nativeroute.ConnectionLost):
            c.status()

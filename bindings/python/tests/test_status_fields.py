"""Status beyond the 1.0 fields - eBPF host routing, masquerading, the store,
health - read through the binding from two real daemons: the plain one of
conftest (no --bpf, file store) and one with --bpf, masquerading and an etcd
store (tests/integration/lib/binding_daemon.sh), each checked against the
kernel (nftables, pinned maps) or etcd itself where it can be."""
import errno
import json
import os
import signal
import subprocess
import time

import pytest

import nativeroute
from nativeroute import _lib

from conftest import NETNS, wait_for

FEAT = os.environ.get("NR_TEST_FEATURE_SOCKET")
FEAT_NS = os.environ.get("NR_TEST_FEATURE_NETNS")
FEAT_ETCD = os.environ.get("NR_TEST_FEATURE_ETCD")
FEAT_PINS = "/sys/fs/bpf/nativeroute/feat@%s" % FEAT_NS

needs_feat = pytest.mark.skipif(not FEAT, reason="no daemon with eBPF, masquerading and etcd")
# A generous per-call bound for that daemon: attaching the tc programs of an
# endpoint waits for the kernel's rtnl lock, which namespace teardowns of
# tests running alongside can hold for many seconds on a busy machine.
FEAT_TIMEOUT = 60.0


def nft_table(ns):
    r = subprocess.run(["ip", "netns", "exec", ns, "nft", "list", "table", "inet", "nativeroute"],
                       capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else ""


def map_entries(name):
    out = subprocess.run(["bpftool", "-j", "map", "dump", "pinned", os.path.join(FEAT_PINS, name)],
                         check=True, capture_output=True, text=True).stdout
    return len(json.loads(out))


def test_plain_daemon_has_no_bpf_and_no_etcd_but_says_why(client):
    st = client.status()
    assert st.host_routing == "Legacy" and "--bpf" in st.host_routing_reason
    assert st.bpf is None
    assert st.store == "file" and st.etcd is None
    assert st.healthy is True and st.problems == ""
    assert st.version == nativeroute.library_version() and st.local_node == "node-1"
    assert st.pod_cidr4 and st.pod_cidr4.startswith("10.0.") and st.pod_cidr6 is None
    assert st.pod_ips_total4 == 254 and st.pod_ips_used4 >= 1  # a /24; the gateway counts
    assert st.nodes_native + st.nodes_tunnel <= st.nodes and st.endpoints_broken == 0
    assert st.netns_gone is False and st.store_error == 0


def test_plain_daemon_masquerades_ipv4_as_the_kernel_shows(client):
    """Masquerading is on by default for a family with a cluster CIDR."""
    assert wait_for(lambda: client.status().masquerade.programmed, 10)
    m = client.status().masquerade
    assert (m.ipv4, m.ipv6) == (True, False)
    assert "10.0.0.0/21" in m.excluded
    table = nft_table(NETNS)
    assert "masquerade" in table and "10.0.0.0/21" in table, table
    assert "cluster CIDRs are used" in m.note


@needs_feat
def test_ebpf_fields_follow_the_pinned_maps():
    with nativeroute.Client(FEAT, timeout=FEAT_TIMEOUT) as c:
        st = c.status()
        assert st.host_routing == "BPF" and st.host_routing_reason == ""
        assert st.bpf is not None and set(st.bpf.packets) == set(_lib.BPF_VERDICTS)
        assert all(isinstance(v, int) and v >= 0 for v in st.bpf.packets.values())
        before = st.bpf.endpoints
        ep = None
        deadline = time.monotonic() + 20
        while ep is None:  # EAGAIN until etcd confirmed this node's CIDR
            try:
                ep = c.add_endpoint("py-feat", ifname="fpa0")
            except nativeroute.NativeRouteError as e:
                if e.errno != errno.EAGAIN or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        try:
            assert ep.ipv4.startswith("10.8.")
            assert wait_for(lambda: c.status().bpf.endpoints == before + 1, 10)
            st = c.status()
            assert st.bpf.endpoints == map_entries("endpoints")
            assert st.bpf.routes == map_entries("routes") >= 1
            assert st.bpf.map_repairs == 0
        finally:
            c.remove_endpoint("py-feat")
        assert wait_for(lambda: c.status().bpf.endpoints == before, 10)


@needs_feat
def test_masquerade_fields_of_the_feature_daemon():
    with nativeroute.Client(FEAT, timeout=FEAT_TIMEOUT) as c:
        assert wait_for(lambda: c.status().masquerade.programmed, 10)
        m = c.status().masquerade
        assert m.ipv4 and not m.ipv6 and "10.8.0.0/16" in m.excluded
        assert "10.8.0.0/16" in nft_table(FEAT_NS)


@needs_feat
def test_etcd_fields_healthy_then_unreachable():
    """Last of this file: it stops the etcd member for good."""
    with nativeroute.Client(FEAT, timeout=FEAT_TIMEOUT) as c:
        assert wait_for(lambda: c.status().etcd.healthy, 10)
        st = c.status()
        assert st.store == "etcd" and st.healthy
        assert st.etcd.unhealthy_since is None
        assert st.etcd.detail.startswith("Ok (") and FEAT_ETCD in st.etcd.detail, st.etcd.detail
        t0 = int(time.time())
        os.kill(int(os.environ["NR_TEST_FEATURE_ETCD_PID"]), signal.SIGKILL)
        assert wait_for(lambda: not c.status().etcd.healthy, 30), c.status().etcd
        st = c.status()
        assert st.etcd.unhealthy_since is not None and st.etcd.unhealthy_since >= t0 - 1
        assert st.etcd.detail.startswith("unreachable"), st.etcd.detail
        assert st.healthy is False and "store" in st.problems, st.problems

"""The ctypes layouts of _lib against the ABI record the binding's version
names (abi/nodes/NR_<major>.<minor>, written by scripts/update-abi from the
real library): a field at the wrong offset would read garbage silently."""
import ctypes
import os
import re

import pytest

from nativeroute import _lib
from nativeroute._version import __version__

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
RECORD = os.path.join(SOURCE, "abi", "nodes", "NR_%s.%s" % tuple(__version__.split(".")[:2]))

# ctypes class -> C struct; library-filled ("fixed") structs must match
# whole, extensible ones (opts, nr_status) field by field as far as the
# binding declares them
MIRRORS = {
    _lib.NodeInfo: "nr_node_info", _lib.EndpointInfo: "nr_endpoint_info",
    _lib.RouteInfo: "nr_route_info", _lib.IpamAllocation: "nr_ipam_allocation",
    _lib.IpamInfo: "nr_ipam_info", _lib.Event: "nr_event", _lib.Status: "nr_status",
    _lib.ClientOpts: "nr_client_opts", _lib.NodeSpec: "nr_node_spec",
    _lib.EndpointSpec: "nr_endpoint_spec", _lib.ModeOpts: "nr_mode_opts",
}


def record():
    structs = {}
    with open(RECORD) as f:
        for line in f:
            w = line.split()
            if w and w[0] == "struct":
                fields = dict((m.split("@")[0], int(m.split("@")[1])) for m in w[4:])
                structs[w[1]] = (w[2], int(w[3]), fields)
    return structs


def test_the_record_of_the_bindings_version_exists():
    assert os.path.exists(RECORD), RECORD


@pytest.mark.parametrize("cls", list(MIRRORS), ids=lambda c: MIRRORS[c])
def test_ctypes_layout_matches_the_abi_record(cls):
    kind, size_bits, fields = record()[MIRRORS[cls]]
    mine = {name: getattr(cls, name).offset * 8 for name, _ in cls._fields_}
    for name, off in mine.items():
        assert fields.get(name) == off, "%s.%s at bit %d, record: %s" % (
            MIRRORS[cls], name, off, fields.get(name))
    if kind == "fixed" or cls is _lib.Status:  # the binding reads every status field
        assert set(mine) == set(fields), set(fields) ^ set(mine)
        assert ctypes.sizeof(cls) * 8 == size_bits


def test_bpf_verdict_names_are_the_headers():
    with open(os.path.join(SOURCE, "include", "nativeroute", "bpf.h")) as f:
        text = f.read()
    body = re.search(r"#define NR_BPF_VERDICT_NAMES\s*\\?\s*\{([^}]*)\}", text, re.S).group(1)
    assert tuple(re.findall(r'"([a-z_]+)"', body)) == _lib.BPF_VERDICTS

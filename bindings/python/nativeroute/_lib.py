"""ctypes declarations of libnativeroute.so.1 (and the few libuv calls the
binding needs to own a loop). ABI mode: nothing is compiled; the layouts
below are those of the ABI the binding's version names (abi/nodes/NR_1.2 in
the source tree; tests/test_layout.py compares them with that record).

Structs the library fills carry its sizeof in ``sz``; fields past it are
never read (see :func:`has_field`), so a newer binding on an older 1.x
library reads what that library has and defaults for the rest.
"""
import ctypes
import ctypes.util
import os
from ctypes import (CFUNCTYPE, POINTER, Structure, c_bool, c_char, c_char_p, c_int, c_int64,
                    c_size_t, c_uint, c_uint32, c_uint64, c_void_p)

from ._version import __version__

# ---- finding the libraries ------------------------------------------------------


def _load_nativeroute():
    candidates = []
    env = os.environ.get("NATIVEROUTE_LIBRARY")
    if env:
        candidates.append(env)
    try:  # written into the package by the build tree's copy (CMake)
        from ._libdir import LIBDIR  # type: ignore
        candidates.append(os.path.join(LIBDIR, "libnativeroute.so.1"))
    except ImportError:
        pass
    candidates.append("libnativeroute.so.1")
    errors = []
    for path in candidates:
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            errors.append("%s: %s" % (path, e))
    raise ImportError("nativeroute: cannot load libnativeroute.so.1 (install the library, "
                      "or set NATIVEROUTE_LIBRARY to its path): " + "; ".join(errors))


lib = _load_nativeroute()
# libuv is a dependency of libnativeroute: already mapped into the process.
uv = ctypes.CDLL(ctypes.util.find_library("uv") or "libuv.so.1")

# ---- value types --------------------------------------------------------------------

NR_MODE_NATIVE, NR_MODE_TUNNEL, NR_MODE_HYBRID = 1, 2, 3
NR_IPAM_CLUSTER_POOL, NR_IPAM_KUBERNETES = 1, 2
NR_SWITCH_KEEP, NR_SWITCH_ON, NR_SWITCH_OFF = 0, 1, 2
UV_RUN_DEFAULT, UV_RUN_ONCE, UV_RUN_NOWAIT = 0, 1, 2


class NodeInfo(Structure):
    _fields_ = [("sz", c_size_t), ("name", c_char_p), ("ipv4", c_char_p), ("ipv6", c_char_p),
                ("pod_cidrs", POINTER(c_char_p)), ("n_pod_cidrs", c_size_t),
                ("state", c_char_p), ("local", c_bool)]


class EndpointInfo(Structure):
    _fields_ = [("sz", c_size_t), ("id", c_char_p), ("ifname", c_char_p), ("ifindex", c_uint32),
                ("ipv4", c_char_p), ("ipv6", c_char_p), ("gateway4", c_char_p),
                ("gateway6", c_char_p), ("mtu", c_uint32)]  # mtu: 1.1


class RouteInfo(Structure):
    _fields_ = [("sz", c_size_t), ("dst", c_char_p), ("kind", c_char_p), ("via", c_char_p),
                ("dev", c_char_p), ("node", c_char_p), ("mtu", c_uint32), ("programmed", c_bool)]


class Status(Structure):
    _fields_ = [("sz", c_size_t), ("routing_mode", c_int), ("ipam_mode", c_int),
                ("auto_direct_node_routes", c_bool), ("nexthop_objects", c_bool),
                ("started", c_bool), ("nodes", c_size_t), ("nodes_unreachable", c_size_t),
                ("endpoints", c_size_t), ("routes_planned", c_size_t),
                ("routes_programmed", c_size_t), ("ipam_used", c_size_t),
                ("ipam_total", c_size_t), ("resyncs", c_uint64), ("drift_repairs", c_uint64),
                ("netlink_errors", c_uint64), ("full_passes", c_uint64),
                ("incremental_passes", c_uint64), ("direct_routing_skip_unreachable", c_bool),
                # eBPF host routing
                ("host_routing_bpf", c_bool), ("host_routing_reason", c_char * 128),
                ("bpf_routes", c_size_t), ("bpf_endpoints", c_size_t),
                ("bpf_map_repairs", c_uint64), ("bpf_packets", c_uint64 * 16),
                # masquerading
                ("masquerade_ipv4", c_bool), ("masquerade_ipv6", c_bool),
                ("masquerade_programmed", c_bool), ("masquerade_excluded", c_char * 512),
                ("masquerade_note", c_char * 256),
                # the store
                ("store_file", c_bool), ("store_etcd", c_bool), ("store_healthy", c_bool),
                ("store_unhealthy_since", c_int64), ("store_detail", c_char * 200),
                # health and this node
                ("healthy", c_bool), ("problems", c_char_p), ("nodes_native", c_size_t),
                ("nodes_tunnel", c_size_t), ("nodes_no_cidr", c_size_t),
                ("endpoints_broken", c_size_t), ("netns_gone", c_bool), ("store_error", c_int),
                ("version", c_char_p), ("local_node", c_char_p), ("pod_cidr4", c_char_p),
                ("pod_cidr6", c_char_p), ("pod_ips_used4", c_size_t),
                ("pod_ips_total4", c_size_t), ("pod_ips_used6", c_size_t),
                ("pod_ips_total6", c_size_t)]


# The fast path's verdicts, in the order of enum nr_bpf_verdict
# (NR_BPF_VERDICT_NAMES of nativeroute/bpf.h; RPC keys "bpf_packets_<name>").
BPF_VERDICTS = ("redirect_peer", "redirect_neigh", "redirect_local", "pass_tunnel",
                "pass_no_route", "pass_ttl", "pass_fragment", "pass_not_ip", "pass_fib",
                "redirect_tunnel")


class IpamAllocation(Structure):
    _fields_ = [("sz", c_size_t), ("node", c_char_p), ("cidr", c_char_p)]


class IpamInfo(Structure):
    _fields_ = [("sz", c_size_t), ("mode", c_int), ("used", c_size_t), ("total", c_size_t),
                ("allocations", POINTER(IpamAllocation)), ("n_allocations", c_size_t)]


class Event(Structure):
    _fields_ = [("sz", c_size_t), ("type", c_int), ("node", c_char_p), ("object", c_char_p),
                ("message", c_char_p)]


def has_field(st, name):
    """Whether the library's struct (its sz) holds field `name`."""
    f = getattr(type(st), name)
    return st.sz >= f.offset + f.size


# ---- callbacks (client.h) ---------------------------------------------------------------

done_cb = CFUNCTYPE(None, c_void_p, c_int, c_char_p, c_void_p)
close_cb = CFUNCTYPE(None, c_void_p, c_void_p)
state_cb = CFUNCTYPE(None, c_void_p, c_bool, c_int, c_void_p)
event_cb = CFUNCTYPE(None, c_void_p, POINTER(Event), c_uint64, c_void_p)
status_cb = CFUNCTYPE(None, c_void_p, c_int, c_char_p, POINTER(Status), c_void_p)
node_cb = CFUNCTYPE(None, c_void_p, c_int, c_char_p, POINTER(NodeInfo), c_void_p)
endpoint_cb = CFUNCTYPE(None, c_void_p, c_int, c_char_p, POINTER(EndpointInfo), c_void_p)
mode_cb = CFUNCTYPE(None, c_void_p, c_int, c_char_p, c_int, c_bool, c_void_p)
ipam_cb = CFUNCTYPE(None, c_void_p, c_int, c_char_p, POINTER(IpamInfo), c_void_p)
node_fn = CFUNCTYPE(c_int, POINTER(NodeInfo), c_void_p)
endpoint_fn = CFUNCTYPE(c_int, POINTER(EndpointInfo), c_void_p)
route_fn = CFUNCTYPE(c_int, POINTER(RouteInfo), c_void_p)


# ---- options (opts.h: sz first, zeroed, only appended to) ----------------------------------

class ClientOpts(Structure):
    _fields_ = [("sz", c_size_t), ("socket_path", c_char_p), ("reconnect_ms", c_uint),
                ("timeout_ms", c_uint), ("max_msg", c_size_t), ("event_cb", event_cb),
                ("event_data", c_void_p), ("state_cb", state_cb), ("state_data", c_void_p)]


class NodeSpec(Structure):
    _fields_ = [("sz", c_size_t), ("name", c_char_p), ("ipv4", c_char_p), ("ipv6", c_char_p),
                ("pod_cidrs", POINTER(c_char_p))]


class EndpointSpec(Structure):
    _fields_ = [("sz", c_size_t), ("id", c_char_p), ("ifname", c_char_p), ("ifindex", c_uint32),
                ("ipv4", c_char_p), ("ipv6", c_char_p)]


class ModeOpts(Structure):
    _fields_ = [("sz", c_size_t), ("mode", c_int), ("auto_direct_node_routes", c_int),
                ("direct_routing_skip_unreachable", c_int)]


def opts(cls, **fields):
    """An options struct as NR_OPTS builds it: zeroed, sz set."""
    o = cls()
    o.sz = ctypes.sizeof(cls)
    for k, v in fields.items():
        setattr(o, k, v)
    return o


# ---- prototypes ---------------------------------------------------------------------------

def _proto(lib_, name, restype, *argtypes):
    # A symbol of a newer node than the loaded library has is left unset:
    # check_version() (at import) refuses that library with a clear message.
    f = getattr(lib_, name, None)
    if f is None:
        return None
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


P = c_void_p
_proto(lib, "nr_version", c_uint)
_proto(lib, "nr_version_string", c_char_p)
_proto(lib, "nr_last_errmsg", c_char_p)
_proto(lib, "nr_strerror", c_char_p, c_int)
_proto(lib, "nr_err_name", c_char_p, c_int)
_proto(lib, "nr_routing_mode_str", c_char_p, c_int)
_proto(lib, "nr_ipam_mode_str", c_char_p, c_int)
_proto(lib, "nr_event_type_str", c_char_p, c_int)
_proto(lib, "nr_routing_mode_parse", c_int, c_char_p, POINTER(c_int))
_proto(lib, "nr_client_new", c_int, P, POINTER(ClientOpts), POINTER(P))
_proto(lib, "nr_client_connect", c_int, P, done_cb, P)
_proto(lib, "nr_client_close", c_int, P, close_cb, P)
_proto(lib, "nr_client_connected", c_bool, P)
_proto(lib, "nr_client_status", c_int, P, status_cb, P)
_proto(lib, "nr_client_node_add", c_int, P, POINTER(NodeSpec), node_cb, P)
_proto(lib, "nr_client_node_update", c_int, P, POINTER(NodeSpec), node_cb, P)
_proto(lib, "nr_client_node_remove", c_int, P, c_char_p, done_cb, P)
_proto(lib, "nr_client_node_get", c_int, P, c_char_p, node_cb, P)
_proto(lib, "nr_client_node_foreach", c_int, P, node_fn, done_cb, P)
_proto(lib, "nr_client_endpoint_add", c_int, P, POINTER(EndpointSpec), endpoint_cb, P)
_proto(lib, "nr_client_endpoint_remove", c_int, P, c_char_p, done_cb, P)
_proto(lib, "nr_client_endpoint_foreach", c_int, P, endpoint_fn, done_cb, P)
_proto(lib, "nr_client_endpoint_get", c_int, P, c_char_p, endpoint_cb, P)  # NR_1.2
_proto(lib, "nr_client_route_foreach", c_int, P, route_fn, done_cb, P)
_proto(lib, "nr_client_ipam_status", c_int, P, ipam_cb, P)
_proto(lib, "nr_ipam_allocation_at", POINTER(IpamAllocation), POINTER(IpamInfo), c_size_t)
_proto(lib, "nr_client_mode_get", c_int, P, mode_cb, P)
_proto(lib, "nr_client_mode_set_opts", c_int, P, POINTER(ModeOpts), mode_cb, P)
_proto(lib, "nr_client_subscribe", c_int, P, done_cb, P)

_proto(uv, "uv_loop_size", c_size_t)
_proto(uv, "uv_loop_init", c_int, P)
_proto(uv, "uv_loop_close", c_int, P)
_proto(uv, "uv_run", c_int, P, c_int)
_proto(uv, "uv_backend_fd", c_int, P)
_proto(uv, "uv_backend_timeout", c_int, P)
_proto(uv, "uv_loop_alive", c_int, P)


def text(b):
    """A C string as str ("" for NULL)."""
    return b.decode("utf-8", "replace") if b else ""


def parse_version(v):
    return tuple(int(x) for x in v.split("."))


def library_version():
    """The running library's version as (major, minor, patch)."""
    v = lib.nr_version()
    return (v >> 16, (v >> 8) & 0xff, v & 0xff)


def check_version():
    """The binding binds NR_1.<its minor>: refuse an older or other-major library."""
    want = parse_version(__version__)
    have = library_version()
    if have[0] != want[0] or have[:2] < want[:2]:
        raise ImportError(
            "nativeroute %s needs libnativeroute %d.x >= %d.%d, but the loaded library is %s "
            "(%s): install a matching library or point NATIVEROUTE_LIBRARY at one"
            % (__version__, want[0], want[0], want[1], text(lib.nr_version_string()),
               getattr(lib, "_name", "?")))

"""The engine under both clients: a libuv loop owned by the binding, an
nr_client on it, the C callbacks, and the conversion of the library's
structs (valid during a callback only) into dataclasses.

The engine never runs the loop by itself: the synchronous Client runs it
until the answer it waits for has come (uv_run ONCE), the asyncio client
from its event loop (the uv loop's backend fd as a reader, its next timeout
as a timer). One thread at a time: neither client is thread-safe.
"""
import collections
import ctypes
import errno
import itertools
from ctypes import byref, c_char_p, c_int, c_void_p
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple

from . import _lib
from ._lib import lib, text, uv
from .errors import NativeRouteError, error_from_status
from .types import (Bpf, Endpoint, Etcd, Event, Ipam, IpamAllocation, Masquerade, Mode, Node,
                    Route, Status)

DEFAULT_SOCKET = "/run/nativeroute/nativeroute.sock"


def _opt(b: bytes) -> Optional[str]:
    """An optional string of the C API ("" = none) as None."""
    return text(b) or None


def node_of(n: _lib.NodeInfo) -> Node:
    return Node(name=text(n.name), ipv4=_opt(n.ipv4), ipv6=_opt(n.ipv6),
                pod_cidrs=[text(n.pod_cidrs[i]) for i in range(n.n_pod_cidrs)],
                state=text(n.state), local=bool(n.local))


def endpoint_of(e: _lib.EndpointInfo) -> Endpoint:
    return Endpoint(id=text(e.id), ifname=_opt(e.ifname), ifindex=int(e.ifindex),
                    ipv4=_opt(e.ipv4), ipv6=_opt(e.ipv6), gateway4=_opt(e.gateway4),
                    gateway6=_opt(e.gateway6),
                    mtu=int(e.mtu) if _lib.has_field(e, "mtu") else 0)


def route_of(r: _lib.RouteInfo) -> Route:
    return Route(dst=text(r.dst), kind=text(r.kind), via=_opt(r.via), dev=_opt(r.dev),
                 node=_opt(r.node), mtu=int(r.mtu), programmed=bool(r.programmed))


def _bpf_of(s: _lib.Status) -> Optional[Bpf]:
    # as `nrctl status` decides to show "BPF Maps:": a daemon without --bpf
    # has no maps and no fast path
    if not (s.host_routing_bpf or s.bpf_routes or s.bpf_endpoints):
        return None
    return Bpf(routes=s.bpf_routes, endpoints=s.bpf_endpoints, map_repairs=s.bpf_map_repairs,
               packets={name: int(s.bpf_packets[i]) for i, name in enumerate(_lib.BPF_VERDICTS)})


def _masquerade_of(s: _lib.Status) -> Optional[Masquerade]:
    if not (s.masquerade_ipv4 or s.masquerade_ipv6):
        return None
    return Masquerade(ipv4=bool(s.masquerade_ipv4), ipv6=bool(s.masquerade_ipv6),
                      programmed=bool(s.masquerade_programmed),
                      excluded=text(s.masquerade_excluded).split(),
                      note=text(s.masquerade_note))


def _etcd_of(s: _lib.Status) -> Optional[Etcd]:
    if not s.store_etcd:
        return None
    since = int(s.store_unhealthy_since)
    return Etcd(healthy=bool(s.store_healthy), unhealthy_since=since if since > 0 else None,
                detail=text(s.store_detail))


def status_of(s: _lib.Status) -> Status:
    if not _lib.has_field(s, "pod_ips_total6"):  # pragma: no cover - the import check
        raise NativeRouteError(errno.EPROTO, "EPROTO", "the library's nr_status is older "
                               "than this binding (%d bytes)" % s.sz)
    return Status(
        routing_mode=text(lib.nr_routing_mode_str(s.routing_mode)),
        ipam_mode=text(lib.nr_ipam_mode_str(s.ipam_mode)),
        auto_direct_node_routes=bool(s.auto_direct_node_routes),
        direct_routing_skip_unreachable=bool(s.direct_routing_skip_unreachable),
        nexthop_objects=bool(s.nexthop_objects),
        started=bool(s.started), nodes=s.nodes, nodes_unreachable=s.nodes_unreachable,
        endpoints=s.endpoints, routes_planned=s.routes_planned,
        routes_programmed=s.routes_programmed, ipam_used=s.ipam_used, ipam_total=s.ipam_total,
        resyncs=s.resyncs, drift_repairs=s.drift_repairs, netlink_errors=s.netlink_errors,
        full_passes=s.full_passes, incremental_passes=s.incremental_passes,
        healthy=bool(s.healthy), problems=text(s.problems), version=text(s.version),
        local_node=text(s.local_node), nodes_native=s.nodes_native,
        nodes_tunnel=s.nodes_tunnel, nodes_no_cidr=s.nodes_no_cidr,
        endpoints_broken=s.endpoints_broken, netns_gone=bool(s.netns_gone),
        store_error=int(s.store_error), pod_cidr4=_opt(s.pod_cidr4),
        pod_cidr6=_opt(s.pod_cidr6), pod_ips_used4=s.pod_ips_used4,
        pod_ips_total4=s.pod_ips_total4, pod_ips_used6=s.pod_ips_used6,
        pod_ips_total6=s.pod_ips_total6,
        host_routing="BPF" if s.host_routing_bpf else "Legacy",
        host_routing_reason=text(s.host_routing_reason), bpf=_bpf_of(s),
        masquerade=_masquerade_of(s),
        store="etcd" if s.store_etcd else "file" if s.store_file else "none",
        etcd=_etcd_of(s))


def ipam_of(p: "ctypes._Pointer[_lib.IpamInfo]") -> Ipam:
    allocs = []
    i = 0
    while True:  # the accessor, not the 1.0 array: its items can grow
        a = lib.nr_ipam_allocation_at(p, i)
        if not a:
            break
        allocs.append(IpamAllocation(node=text(a.contents.node), cidr=text(a.contents.cidr)))
        i += 1
    info = p.contents
    return Ipam(mode=text(lib.nr_ipam_mode_str(info.mode)), used=info.used, total=info.total,
                allocations=allocs)


def event_of(e: _lib.Event, seq: int) -> Event:
    return Event(seq=int(seq), type=text(lib.nr_event_type_str(e.type)), node=_opt(e.node),
                 object=_opt(e.object), message=text(e.message))


def _b(s: Optional[str]) -> Optional[bytes]:
    return s.encode() if s is not None else None


def _switch(v: Optional[bool]) -> int:
    return _lib.NR_SWITCH_KEEP if v is None else _lib.NR_SWITCH_ON if v else _lib.NR_SWITCH_OFF


class Engine:
    """A uv loop and a client of the daemon at socket_path on it."""

    def __init__(self, socket_path: str, timeout: Optional[float], reconnect: Optional[float]):
        self._loop_mem = ctypes.create_string_buffer(uv.uv_loop_size())
        self.loop = ctypes.cast(self._loop_mem, c_void_p)
        rc = uv.uv_loop_init(self.loop)
        if rc < 0:
            raise error_from_status(rc, "uv_loop_init failed")
        self._tokens = itertools.count(1)
        self._results: Dict[int, Tuple[int, str, Any]] = {}
        self._items: Dict[int, List[Any]] = {}
        self.on_result: Optional[Callable[[int], None]] = None  # the asyncio client's hook
        self.on_event: Optional[Callable[[], None]] = None
        self.events: Deque[Event] = collections.deque()
        self.lost: Optional[int] = None  # status of the lost connection
        self._closed = False
        # The C callbacks, kept alive as long as the engine.
        self._c = {
            "done": _lib.done_cb(self._on_done), "close": _lib.close_cb(self._on_close),
            "state": _lib.state_cb(self._on_state), "event": _lib.event_cb(self._on_event),
            "status": _lib.status_cb(self._on_status), "node": _lib.node_cb(self._on_node),
            "endpoint": _lib.endpoint_cb(self._on_endpoint), "mode": _lib.mode_cb(self._on_mode),
            "ipam": _lib.ipam_cb(self._on_ipam), "node_fn": _lib.node_fn(self._node_item),
            "endpoint_fn": _lib.endpoint_fn(self._endpoint_item),
            "route_fn": _lib.route_fn(self._route_item),
        }
        self._path = socket_path.encode()
        o = _lib.opts(_lib.ClientOpts, socket_path=self._path,
                      timeout_ms=int(timeout * 1000) if timeout else 0,
                      reconnect_ms=int(reconnect * 1000) if reconnect else 0,
                      event_cb=self._c["event"], state_cb=self._c["state"])
        self.client = c_void_p()
        rc = lib.nr_client_new(self.loop, byref(o), byref(self.client))
        if rc < 0:
            uv.uv_loop_close(self.loop)
            raise error_from_status(rc, text(lib.nr_last_errmsg()))

    # ---- completing calls ------------------------------------------------------------

    def _finish(self, token: Optional[int], status: int, msg: Optional[bytes], result: Any) -> None:
        if token is None:
            return
        self._results[token] = (status, text(msg), result)
        if self.on_result:
            self.on_result(token)

    def _guard(self, token: Optional[int], status: int, msg: Optional[bytes],
               decode: Callable[[], Any]) -> None:
        # An exception must not cross the C frame: it becomes the call's error.
        try:
            result = decode() if status == 0 else None
        except Exception as e:  # pragma: no cover - decoding our own structs
            status, msg, result = -errno.EPROTO, ("cannot read the answer: %s" % e).encode(), None
        self._finish(token, status, msg, result)

    def _on_done(self, c, status, msg, token):
        items = self._items.pop(token, None) if token is not None else None
        self._finish(token, status, msg, items)

    def _on_status(self, c, status, msg, st, token):
        self._guard(token, status, msg, lambda: status_of(st.contents))

    def _on_node(self, c, status, msg, node, token):
        self._guard(token, status, msg, lambda: node_of(node.contents) if node else None)

    def _on_endpoint(self, c, status, msg, ep, token):
        self._guard(token, status, msg, lambda: endpoint_of(ep.contents) if ep else None)

    def _on_mode(self, c, status, msg, mode, adnr, token):
        self._guard(token, status, msg, lambda: (text(lib.nr_routing_mode_str(mode)), bool(adnr)))

    def _on_ipam(self, c, status, msg, info, token):
        self._guard(token, status, msg, lambda: ipam_of(info))

    def _item(self, token, convert, item) -> int:
        try:
            self._items[token].append(convert(item.contents))
            return 0
        except Exception:  # pragma: no cover
            return -errno.EPROTO

    def _node_item(self, item, token):
        return self._item(token, node_of, item)

    def _endpoint_item(self, item, token):
        return self._item(token, endpoint_of, item)

    def _route_item(self, item, token):
        return self._item(token, route_of, item)

    def _on_event(self, c, ev, seq, data):
        try:
            self.events.append(event_of(ev.contents, seq))
        except Exception:  # pragma: no cover
            return
        if self.on_event:
            self.on_event()

    def _on_state(self, c, connected, status, data):
        if not connected:
            self.lost = status or -errno.ECONNRESET
            if self.on_event:
                self.on_event()

    def _on_close(self, c, data):
        self._closed = True

    # ---- starting calls ------------------------------------------------------------------

    def _start(self, fn: Callable[..., int], *args: Any) -> int:
        """Start a C call whose last argument is the token; raise at once if
        it was refused (then nothing was sent)."""
        if self._closed or not self.client:
            raise error_from_status(-errno.ECANCELED, "the client is closed")
        token = next(self._tokens)
        rc = fn(self.client, *args, c_void_p(token))
        if rc < 0:
            raise error_from_status(rc, text(lib.nr_last_errmsg()))
        return token

    def result(self, token: int) -> Any:
        """The result of a completed call; raises its error."""
        status, msg, result = self._results.pop(token)
        if status != 0:
            raise error_from_status(status, msg)
        return result

    def done(self, token: int) -> bool:
        return token in self._results

    def connect(self) -> int:
        return self._start(lib.nr_client_connect, self._c["done"])

    def status(self) -> int:
        return self._start(lib.nr_client_status, self._c["status"])

    def node_change(self, update: bool, name: str, ipv4: Optional[str], ipv6: Optional[str],
                    pod_cidrs: Optional[List[str]]) -> int:
        cidrs = None
        if pod_cidrs is not None:
            enc = [c.encode() for c in pod_cidrs]
            cidrs = (c_char_p * (len(enc) + 1))(*enc, None)
        spec = _lib.opts(_lib.NodeSpec, name=name.encode(), ipv4=_b(ipv4), ipv6=_b(ipv6))
        if cidrs is not None:
            spec.pod_cidrs = ctypes.cast(cidrs, ctypes.POINTER(c_char_p))
        fn = lib.nr_client_node_update if update else lib.nr_client_node_add
        return self._start(fn, byref(spec), self._c["node"])  # read during the call only

    def node_remove(self, name: str) -> int:
        return self._start(lib.nr_client_node_remove, name.encode(), self._c["done"])

    def node_get(self, name: str) -> int:
        return self._start(lib.nr_client_node_get, name.encode(), self._c["node"])

    def endpoint_get(self, id: str) -> int:
        return self._start(lib.nr_client_endpoint_get, id.encode(), self._c["endpoint"])

    def _walk(self, fn: Callable[..., int], item_fn: str) -> int:
        token = self._start(fn, self._c[item_fn], self._c["done"])
        self._items[token] = []
        return token

    def node_list(self) -> int:
        return self._walk(lib.nr_client_node_foreach, "node_fn")

    def endpoint_list(self) -> int:
        return self._walk(lib.nr_client_endpoint_foreach, "endpoint_fn")

    def route_list(self) -> int:
        return self._walk(lib.nr_client_route_foreach, "route_fn")

    def endpoint_add(self, id: str, ifname: Optional[str], ifindex: int, ipv4: Optional[str],
                     ipv6: Optional[str]) -> int:
        spec = _lib.opts(_lib.EndpointSpec, id=id.encode(), ifname=_b(ifname), ifindex=ifindex,
                         ipv4=_b(ipv4), ipv6=_b(ipv6))
        return self._start(lib.nr_client_endpoint_add, byref(spec), self._c["endpoint"])

    def endpoint_remove(self, id: str) -> int:
        return self._start(lib.nr_client_endpoint_remove, id.encode(), self._c["done"])

    def ipam(self) -> int:
        return self._start(lib.nr_client_ipam_status, self._c["ipam"])

    def mode_get(self) -> int:
        return self._start(lib.nr_client_mode_get, self._c["mode"])

    def mode_set(self, mode: Optional[str], adnr: Optional[bool], skip: Optional[bool]) -> int:
        m = c_int(0)
        if mode is not None and lib.nr_routing_mode_parse(mode.encode(), byref(m)) < 0:
            raise error_from_status(-errno.EINVAL, "routing mode %r: expected native, tunnel "
                                    "or hybrid" % mode)
        o = _lib.opts(_lib.ModeOpts, mode=m.value, auto_direct_node_routes=_switch(adnr),
                      direct_routing_skip_unreachable=_switch(skip))
        return self._start(lib.nr_client_mode_set_opts, byref(o), self._c["mode"])

    def subscribe(self) -> int:
        return self._start(lib.nr_client_subscribe, self._c["done"])

    @staticmethod
    def mode_of(mode_answer: Tuple[str, bool], st: Status) -> Mode:
        return Mode(mode=mode_answer[0], auto_direct_node_routes=mode_answer[1],
                    direct_routing_skip_unreachable=st.direct_routing_skip_unreachable)

    # ---- the loop ----------------------------------------------------------------------------

    def run_until(self, ready: Callable[[], bool]) -> None:
        """Run the loop until ready() (sync client); the client's timeout
        bounds each wait."""
        while not ready():
            if uv.uv_run(self.loop, _lib.UV_RUN_ONCE) == 0 and not ready() and \
                    not uv.uv_loop_alive(self.loop):
                raise NativeRouteError(errno.EIO, "EIO", "nativeroute: the loop has nothing "
                                       "left to wait for")

    def run_nowait(self) -> None:
        uv.uv_run(self.loop, _lib.UV_RUN_NOWAIT)

    def backend_fd(self) -> int:
        return uv.uv_backend_fd(self.loop)

    def backend_timeout(self) -> int:
        return uv.uv_backend_timeout(self.loop)

    def connected(self) -> bool:
        return bool(self.client) and bool(lib.nr_client_connected(self.client))

    def close(self) -> None:
        """Close the client (calls in flight end with Cancelled) and the loop;
        runs the loop until everything has closed."""
        if not self.client:
            return
        lib.nr_client_close(self.client, self._c["close"], None)
        self.client = c_void_p()
        while not self._closed:
            uv.uv_run(self.loop, _lib.UV_RUN_DEFAULT)
        uv.uv_run(self.loop, _lib.UV_RUN_DEFAULT)
        uv.uv_loop_close(self.loop)

"""The synchronous client: each method sends one request to the daemon and
returns its answer (or raises a NativeRouteError)."""
from typing import Iterator, List, Optional

from ._core import DEFAULT_SOCKET, Engine
from .errors import error_from_status
from .types import Endpoint, Event, Ipam, Mode, Node, Route, Status


class Client:
    """A connection to a nativerouted daemon over its Unix socket.

    ``timeout`` (seconds, None = wait forever) bounds each call; a call that
    gets no answer in time raises :class:`~nativeroute.Timeout` (the daemon
    may still apply a change: read the state again). Changing calls need a
    peer the daemon trusts (root or its group), else
    :class:`~nativeroute.PermissionDenied`.

    The client owns a private libuv loop and runs it only inside its calls;
    it is not thread-safe (use one client per thread). Use it as a context
    manager, or call :meth:`close`::

        with nativeroute.Client("/run/nativeroute/nativeroute.sock") as c:
            c.add_node("node-2", ipv4="192.168.1.11")
            for r in c.routes():
                print(r.dst, r.via, r.programmed)
    """

    def __init__(self, socket_path: str = DEFAULT_SOCKET, *, timeout: Optional[float] = 10.0,
                 connect: bool = True) -> None:
        self._e = Engine(socket_path, timeout, None)
        self.socket_path = socket_path
        self._subscribed = False
        if connect:
            try:
                self.connect()
            except BaseException:
                self._e.close()
                raise

    # ---- life cycle ------------------------------------------------------------------

    def _wait(self, token: int):
        self._e.run_until(lambda: self._e.done(token))
        return self._e.result(token)

    def connect(self) -> None:
        """Connect (done by the constructor unless connect=False). Raises
        ConnectionLost (ENOENT socket missing is NotFound) when it fails."""
        self._wait(self._e.connect())

    @property
    def connected(self) -> bool:
        return self._e.connected()

    def close(self) -> None:
        """Close the connection; idempotent."""
        self._e.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    # ---- operations (the RPC methods of docs/PROTOCOL.md) -------------------------------

    def status(self) -> Status:
        """[status] The controller's summary."""
        return self._wait(self._e.status())

    def nodes(self) -> List[Node]:
        """[node.list] Every node, this one included, ordered by name."""
        return self._wait(self._e.node_list())

    def node(self, name: str) -> Node:
        """[node.get] One node; NotFound if there is none of that name."""
        return self._wait(self._e.node_get(name))

    def add_node(self, name: str, *, ipv4: Optional[str] = None, ipv6: Optional[str] = None,
                 pod_cidrs: Optional[List[str]] = None) -> Optional[Node]:
        """[node.add] Add a remote node (at least one address). Without
        pod_cidrs, cluster-pool IPAM allocates them. Returns the node as the
        daemon now has it (None if it was removed again meanwhile).
        Raises AlreadyExists, PoolExhausted, InvalidArgument, Unreachable, ..."""
        return self._wait(self._e.node_change(False, name, ipv4, ipv6, pod_cidrs))

    def update_node(self, name: str, *, ipv4: Optional[str] = None, ipv6: Optional[str] = None,
                    pod_cidrs: Optional[List[str]] = None) -> Optional[Node]:
        """[node.update] Change a node's addresses or CIDRs; its routes move
        without a gap. NotFound for an unknown node."""
        return self._wait(self._e.node_change(True, name, ipv4, ipv6, pod_cidrs))

    def remove_node(self, name: str) -> None:
        """[node.remove] Remove a node: its routes go, its CIDRs return to the pool."""
        self._wait(self._e.node_remove(name))

    def endpoints(self) -> List[Endpoint]:
        """[endpoint.list] The pods on the daemon's node."""
        return self._wait(self._e.endpoint_list())

    def endpoint(self, id: str) -> Endpoint:
        """[endpoint.get] One pod by its id; NotFound if there is none."""
        return self._wait(self._e.endpoint_get(id))

    def add_endpoint(self, id: str, *, ifname: Optional[str] = None, ifindex: int = 0,
                     ipv4: Optional[str] = None, ipv6: Optional[str] = None) -> Endpoint:
        """[endpoint.add] A pod whose host-side interface is ifname (or
        ifindex); without ipv4/ipv6 its address is allocated."""
        return self._wait(self._e.endpoint_add(id, ifname, ifindex, ipv4, ipv6))

    def remove_endpoint(self, id: str) -> None:
        """[endpoint.remove] NotFound for an unknown id."""
        self._wait(self._e.endpoint_remove(id))

    def routes(self) -> List[Route]:
        """[route.list] Every route the controller plans, and whether the
        kernel has it."""
        return self._wait(self._e.route_list())

    def ipam(self) -> Ipam:
        """[ipam.status] IPAM mode, usage and every node CIDR allocation."""
        return self._wait(self._e.ipam())

    def mode(self) -> Mode:
        """[mode.get] The routing mode and its switches."""
        answer = self._wait(self._e.mode_get())
        return Engine.mode_of(answer, self.status())

    def set_mode(self, mode: Optional[str] = None, *,
                 auto_direct_node_routes: Optional[bool] = None,
                 direct_routing_skip_unreachable: Optional[bool] = None) -> Mode:
        """[mode.set] Switch the routing mode ("native", "tunnel", "hybrid")
        and/or the switches (None keeps a setting), checked as a whole and
        applied all or nothing. Returns the mode now in force."""
        answer = self._wait(self._e.mode_set(mode, auto_direct_node_routes,
                                             direct_routing_skip_unreachable))
        return Engine.mode_of(answer, self.status())

    def subscribe(self) -> None:
        """[events.subscribe] Start receiving events (idempotent); events()
        does it too. Events from this point on are kept until read."""
        if not self._subscribed:
            self._wait(self._e.subscribe())
            self._subscribed = True

    def events(self) -> Iterator[Event]:
        """Every event of the daemon from this call on (it subscribes before
        it returns), in order, as they happen: iterating blocks while
        waiting. Raises ConnectionLost when the connection ends. Other calls
        may be made between events."""
        self.subscribe()
        return self._events()

    def _events(self) -> Iterator[Event]:
        while True:
            while self._e.events:
                yield self._e.events.popleft()
            if self._e.lost is not None:
                raise error_from_status(self._e.lost, "connection to the daemon lost")
            self._e.run_until(lambda: bool(self._e.events) or self._e.lost is not None)

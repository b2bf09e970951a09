"""The asyncio client: the same methods as Client, as coroutines, on the
running asyncio loop. The binding's libuv loop is driven from it (its
backend fd as a reader, its next timeout as a timer), on the same thread:
no threads, and nothing blocks the asyncio loop."""
import asyncio
from typing import AsyncIterator, Dict, List, Optional

from ._core import DEFAULT_SOCKET, Engine
from .errors import error_from_status
from .types import Endpoint, Event, Ipam, Mode, Node, Route, Status


class AsyncClient:
    """A connection to a nativerouted daemon for asyncio programs::

        async with await nativeroute.AsyncClient.connect(path) as c:
            await c.add_node("node-2", ipv4="192.168.1.11")
            async for ev in c.events():
                print(ev.type, ev.node)

    Use it from one event loop (the one it was connected on). Errors are
    the NativeRouteError subclasses of the synchronous Client.
    """

    def __init__(self, socket_path: str = DEFAULT_SOCKET, *,
                 timeout: Optional[float] = 10.0) -> None:
        self.socket_path = socket_path
        self._e = Engine(socket_path, timeout, None)
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._timer: Optional[asyncio.TimerHandle] = None
        self._futures: Dict[int, "asyncio.Future[None]"] = {}
        self._event_waiter: Optional["asyncio.Future[None]"] = None
        self._subscribed = False
        self._e.on_result = self._on_result
        self._e.on_event = self._on_event

    @classmethod
    async def connect(cls, socket_path: str = DEFAULT_SOCKET, *,
                      timeout: Optional[float] = 10.0) -> "AsyncClient":
        """A connected client."""
        c = cls(socket_path, timeout=timeout)
        try:
            await c._call(c._e.connect())
        except BaseException:
            c.close()
            raise
        return c

    # ---- driving the uv loop from asyncio ------------------------------------------------

    def _attach(self) -> None:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._loop.add_reader(self._e.backend_fd(), self._pump)

    def _pump(self) -> None:
        self._e.run_nowait()
        self._reschedule()

    def _reschedule(self) -> None:
        if self._timer:
            self._timer.cancel()
            self._timer = None
        if self._loop is None or not self._e.client:
            return
        ms = self._e.backend_timeout()
        if ms >= 0:
            self._timer = self._loop.call_later(ms / 1000.0, self._pump)

    def _on_result(self, token: int) -> None:
        fut = self._futures.pop(token, None)
        if fut is not None and not fut.done():
            fut.set_result(None)

    def _on_event(self) -> None:
        if self._event_waiter is not None and not self._event_waiter.done():
            self._event_waiter.set_result(None)

    async def _call(self, token: int):
        self._attach()
        assert self._loop is not None
        fut = self._loop.create_future()
        self._futures[token] = fut
        self._reschedule()
        try:
            await fut
        except asyncio.CancelledError:
            # the answer will still come; it is dropped
            self._futures.pop(token, None)
            raise
        return self._e.result(token)

    def close(self) -> None:
        """Close the connection (calls in flight raise Cancelled); idempotent."""
        if self._loop is not None:
            self._loop.remove_reader(self._e.backend_fd())
        if self._timer:
            self._timer.cancel()
            self._timer = None
        self._e.close()
        for token, fut in list(self._futures.items()):
            if not fut.done():
                fut.set_result(None)
        self._futures.clear()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc) -> None:
        self.close()

    @property
    def connected(self) -> bool:
        return self._e.connected()

    # ---- operations (as Client) ------------------------------------------------------------

    async def status(self) -> Status:
        """[status] See Client.status."""
        return await self._call(self._e.status())

    async def nodes(self) -> List[Node]:
        """[node.list] See Client.nodes."""
        return await self._call(self._e.node_list())

    async def node(self, name: str) -> Node:
        """[node.get] See Client.node."""
        return await self._call(self._e.node_get(name))

    async def add_node(self, name: str, *, ipv4: Optional[str] = None,
                       ipv6: Optional[str] = None,
                       pod_cidrs: Optional[List[str]] = None) -> Optional[Node]:
        """[node.add] See Client.add_node."""
        return await self._call(self._e.node_change(False, name, ipv4, ipv6, pod_cidrs))

    async def update_node(self, name: str, *, ipv4: Optional[str] = None,
                          ipv6: Optional[str] = None,
                          pod_cidrs: Optional[List[str]] = None) -> Optional[Node]:
        """[node.update] See Client.update_node."""
        return await self._call(self._e.node_change(True, name, ipv4, ipv6, pod_cidrs))

    async def remove_node(self, name: str) -> None:
        """[node.remove] See Client.remove_node."""
        await self._call(self._e.node_remove(name))

    async def endpoints(self) -> List[Endpoint]:
        """[endpoint.list] See Client.endpoints."""
        return await self._call(self._e.endpoint_list())

    async def endpoint(self, id: str) -> Endpoint:
        """[endpoint.get] See Client.endpoint."""
        return await self._call(self._e.endpoint_get(id))

    async def add_endpoint(self, id: str, *, ifname: Optional[str] = None, ifindex: int = 0,
                           ipv4: Optional[str] = None, ipv6: Optional[str] = None) -> Endpoint:
        """[endpoint.add] See Client.add_endpoint."""
        return await self._call(self._e.endpoint_add(id, ifname, ifindex, ipv4, ipv6))

    async def remove_endpoint(self, id: str) -> None:
        """[endpoint.remove] See Client.remove_endpoint."""
        await self._call(self._e.endpoint_remove(id))

    async def routes(self) -> List[Route]:
        """[route.list] See Client.routes."""
        return await self._call(self._e.route_list())

    async def ipam(self) -> Ipam:
        """[ipam.status] See Client.ipam."""
        return await self._call(self._e.ipam())

    async def mode(self) -> Mode:
        """[mode.get] See Client.mode."""
        answer = await self._call(self._e.mode_get())
        return Engine.mode_of(answer, await self.status())

    async def set_mode(self, mode: Optional[str] = None, *,
                       auto_direct_node_routes: Optional[bool] = None,
                       direct_routing_skip_unreachable: Optional[bool] = None) -> Mode:
        """[mode.set] See Client.set_mode."""
        answer = await self._call(self._e.mode_set(mode, auto_direct_node_routes,
                                                   direct_routing_skip_unreachable))
        return Engine.mode_of(answer, await self.status())

    async def subscribe(self) -> None:
        """[events.subscribe] Start receiving events (idempotent). Events
        from this point on are kept until events() reads them; events()
        subscribes by itself on its first iteration otherwise."""
        if not self._subscribed:
            await self._call(self._e.subscribe())
            self._subscribed = True

    async def events(self) -> AsyncIterator[Event]:
        """Every event, in order (from subscribe(), or from the first
        iteration); raises ConnectionLost when the connection ends."""
        await self.subscribe()
        while True:
            while self._e.events:
                yield self._e.events.popleft()
            if self._e.lost is not None:
                raise error_from_status(self._e.lost, "connection to the daemon lost")
            assert self._loop is not None
            self._event_waiter = self._loop.create_future()
            self._reschedule()
            await self._event_waiter
            self._event_waiter = None

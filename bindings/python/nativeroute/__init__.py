"""Python binding of libnativeroute: talk to a nativerouted daemon.

It binds the installed (or built) ``libnativeroute.so.1`` through ctypes:
no compiler at import, no second implementation of the protocol. Set
``NATIVEROUTE_LIBRARY`` to a library path to use another copy. The library
version is checked at import (this binding needs 1.x >= its own version).

    import nativeroute
    with nativeroute.Client("/run/nativeroute/nativeroute.sock") as c:
        print(c.status().routing_mode)

:class:`Client` is synchronous; :class:`AsyncClient` the asyncio variant.
Errors are :class:`NativeRouteError` subclasses carrying errno, name and
the daemon's message.
"""
from . import _lib
from ._version import __version__

_lib.check_version()

from ._core import DEFAULT_SOCKET  # noqa: E402
from .aio import AsyncClient  # noqa: E402
from .client import Client  # noqa: E402
from .errors import (AlreadyExists, Busy, Cancelled, ConnectionLost, InvalidArgument,  # noqa: E402
                     NativeRouteError, NotFound, PermissionDenied, PoolExhausted, Timeout,
                     Unreachable, error_from_status)
from .types import (Bpf, Endpoint, Etcd, Event, Ipam, IpamAllocation, Masquerade, Mode,  # noqa: E402
                    Node, Route, Status)


def library_version() -> str:
    """The loaded libnativeroute's version, "MAJOR.MINOR.PATCH"."""
    return _lib.text(_lib.lib.nr_version_string())


__all__ = [
    "AlreadyExists", "AsyncClient", "Bpf", "Busy", "Cancelled", "Client", "ConnectionLost",
    "DEFAULT_SOCKET", "Endpoint", "Etcd", "Event", "InvalidArgument", "Ipam", "IpamAllocation",
    "Masquerade", "Mode", "NativeRouteError", "Node", "NotFound", "PermissionDenied",
    "PoolExhausted", "Route", "Status", "Timeout", "Unreachable", "__version__",
    "error_from_status", "library_version",
]

"""Errors of the daemon and of the library, as exceptions.

Every failure is a :class:`NativeRouteError` carrying the negative-errno
contract of the C API as ``errno`` (positive, like OSError), its symbolic
``name`` ("ENOSPC") and the daemon's ``message`` (naming the offending
value). Subclasses let callers catch the common cases by kind.
"""
import errno as _errno
from typing import Dict, Type


class NativeRouteError(Exception):
    """A call failed: ``errno`` (positive), ``name`` ("ENOSPC"), ``message``."""

    def __init__(self, errno: int, name: str, message: str) -> None:
        super().__init__("%s (%s)" % (message, name) if name not in message else message)
        self.errno = errno
        self.name = name
        self.message = message


class PoolExhausted(NativeRouteError):
    """ENOSPC: no free CIDR block or address left in the pool."""


class NotFound(NativeRouteError):
    """ENOENT: no such node or endpoint."""


class AlreadyExists(NativeRouteError):
    """EEXIST: the name, id, address or CIDR is taken."""


class PermissionDenied(NativeRouteError):
    """EPERM/EACCES: this process may only read (not root, not in the daemon's group)."""


class InvalidArgument(NativeRouteError):
    """EINVAL: a value was refused; the message names it."""


class Busy(NativeRouteError):
    """EBUSY: e.g. a CIDR overlaps another node's, or the local node still has endpoints."""


class Unreachable(NativeRouteError):
    """ENETUNREACH: a node IP is not directly reachable (auto-direct-node-routes)."""


class ConnectionLost(NativeRouteError):
    """ECONNRESET/ENOTCONN/ECONNREFUSED/EPIPE/EPROTO: no usable connection to the daemon.
    A change in flight may or may not have been applied: read the state again."""


class Timeout(NativeRouteError):
    """ETIMEDOUT: no answer from the daemon in time."""


class Cancelled(NativeRouteError):
    """ECANCELED: the client was closed before the answer."""


_BY_ERRNO: Dict[int, Type[NativeRouteError]] = {
    _errno.ENOSPC: PoolExhausted,
    _errno.ENOENT: NotFound,
    _errno.EEXIST: AlreadyExists,
    _errno.EPERM: PermissionDenied,
    _errno.EACCES: PermissionDenied,
    _errno.EINVAL: InvalidArgument,
    _errno.EBUSY: Busy,
    _errno.ENETUNREACH: Unreachable,
    _errno.ECONNRESET: ConnectionLost,
    _errno.ENOTCONN: ConnectionLost,
    _errno.ECONNREFUSED: ConnectionLost,
    _errno.EPIPE: ConnectionLost,
    _errno.EPROTO: ConnectionLost,
    _errno.ETIMEDOUT: Timeout,
    _errno.ECANCELED: Cancelled,
}


def error_from_status(status: int, message: str = "") -> NativeRouteError:
    """The exception for a negative errno status of the C API."""
    from . import _lib

    code = -status if status < 0 else status
    name = _lib.text(_lib.lib.nr_err_name(-code))
    text = message or _lib.text(_lib.lib.nr_strerror(-code))
    return _BY_ERRNO.get(code, NativeRouteError)(code, name, text)

"""Results, as plain dataclasses (copies: valid after the call, unlike the
C structs, which live only during a callback)."""
from dataclasses import dataclass, field
from typing import List, Optional


@dataclass(frozen=True)
class Node:
    """A node of the cluster. ``state``: "local", "native", "tunnel",
    "pending", "unreachable" or "unrouted" (see controller.h; more may come)."""
    name: str
    ipv4: Optional[str]
    ipv6: Optional[str]
    pod_cidrs: List[str] = field(default_factory=list)
    state: str = ""
    local: bool = False


@dataclass(frozen=True)
class Endpoint:
    """A pod on the daemon's node: its addresses and the gateways it routes via."""
    id: str
    ifname: Optional[str]
    ifindex: int
    ipv4: Optional[str]
    ipv6: Optional[str]
    gateway4: Optional[str]
    gateway6: Optional[str]


@dataclass(frozen=True)
class Route:
    """A route the controller plans, and whether the kernel has it as planned."""
    dst: str
    kind: str
    via: Optional[str]
    dev: Optional[str]
    node: Optional[str]
    mtu: int
    programmed: bool


@dataclass(frozen=True)
class IpamAllocation:
    node: str
    cidr: str


@dataclass(frozen=True)
class Ipam:
    """The IPAM: mode ("cluster-pool" or "kubernetes"), node CIDR blocks used
    of total, and every allocation."""
    mode: str
    used: int
    total: int
    allocations: List[IpamAllocation] = field(default_factory=list)


@dataclass(frozen=True)
class Mode:
    """The routing mode ("native", "tunnel", "hybrid") and its switches."""
    mode: str
    auto_direct_node_routes: bool
    direct_routing_skip_unreachable: bool


@dataclass(frozen=True)
class Status:
    """The controller's summary (counters are since the daemon started)."""
    routing_mode: str
    ipam_mode: str
    auto_direct_node_routes: bool
    direct_routing_skip_unreachable: bool
    nexthop_objects: bool
    started: bool
    nodes: int
    nodes_unreachable: int
    endpoints: int
    routes_planned: int
    routes_programmed: int
    ipam_used: int
    ipam_total: int
    resyncs: int
    drift_repairs: int
    netlink_errors: int
    full_passes: int
    incremental_passes: int


@dataclass(frozen=True)
class Event:
    """An event of the daemon's controller. ``type`` as "node.added", ...;
    ``seq`` numbers the daemon's events (a gap: events were missed)."""
    seq: int
    type: str
    node: Optional[str]
    object: Optional[str]
    message: str

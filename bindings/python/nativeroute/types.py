"""Results, as plain dataclasses (copies: valid after the call, unlike the
C structs, which live only during a callback)."""
from dataclasses import dataclass, field
from typing import Dict, List, Optional


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
    #: the MTU the pod's interface should use (the underlay's, less the VXLAN
    #: overhead while traffic is tunnelled); 0 = unknown (a daemon before 1.1)
    mtu: int = 0


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
class Bpf:
    """eBPF host routing (``nativerouted --bpf``): the pinned maps, kept in
    step with the routes, and the tc fast path's packet counters."""
    #: entries in the pinned ``routes`` and ``endpoints`` maps
    routes: int
    endpoints: int
    #: map entries found changed at a resync and rewritten
    map_repairs: int
    #: packets per fast-path verdict ("redirect_peer", "redirect_neigh",
    #: "pass_no_route", ...: NR_BPF_VERDICT_NAMES of nativeroute/bpf.h)
    packets: Dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Masquerade:
    """Masquerading of pod traffic leaving the cluster (nftables table
    ``inet nativeroute``)."""
    ipv4: bool
    ipv6: bool
    #: the kernel holds the table as planned
    programmed: bool
    #: destinations never masqueraded (the native-routing or cluster CIDRs,
    #: the extra non-masquerade CIDRs, the local pod CIDR)
    excluded: List[str] = field(default_factory=list)
    #: why a family is off, where the CIDRs come from, the last error ("" if nothing)
    note: str = ""


@dataclass(frozen=True)
class Etcd:
    """The etcd store (``nativerouted --store etcd``, docs/etcd.md)."""
    #: registered, watching and answering
    healthy: bool
    #: unix time it stopped being healthy; None while healthy
    unhealthy_since: Optional[int]
    #: "Ok (<endpoint>, revision N, ...)", "unreachable (since ...): why", ...
    detail: str


@dataclass(frozen=True)
class Status:
    """The controller's summary (counters are since the daemon started).

    The parts a daemon may run without are optional: ``bpf`` is None
    without eBPF maps (no ``--bpf``; ``host_routing_reason`` says why host
    routing is "Legacy"), ``masquerade`` None when no family is
    masqueraded, ``etcd`` None unless ``store`` is "etcd"."""
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
    #: "Controller: Ok": started, every planned route programmed, the
    #: namespace there, the last save fine, the store and masquerading healthy
    healthy: bool = False
    #: "" when healthy, else what is wrong by subsystem ("routes: 0/1 programmed; ...")
    problems: str = ""
    #: the daemon's library version and its node
    version: str = ""
    local_node: str = ""
    #: remote nodes routed natively / through the tunnel; nodes without a CIDR
    nodes_native: int = 0
    nodes_tunnel: int = 0
    nodes_no_cidr: int = 0
    #: endpoints whose host interface is gone
    endpoints_broken: int = 0
    #: the daemon's named namespace was deleted under it
    netns_gone: bool = False
    #: -errno of the last failed state save, 0 = fine
    store_error: int = 0
    #: this node's pod CIDRs (None: none of that family) and their addresses
    #: in use (the gateway included) of the usable total
    pod_cidr4: Optional[str] = None
    pod_cidr6: Optional[str] = None
    pod_ips_used4: int = 0
    pod_ips_total4: int = 0
    pod_ips_used6: int = 0
    pod_ips_total6: int = 0
    #: "BPF" when the tc fast path is attached, else "Legacy" (see the reason)
    host_routing: str = "Legacy"
    host_routing_reason: str = ""
    bpf: Optional[Bpf] = None
    masquerade: Optional[Masquerade] = None
    #: where the model lives: "etcd", "file" (the state directory) or "none"
    store: str = "none"
    etcd: Optional[Etcd] = None


@dataclass(frozen=True)
class Event:
    """An event of the daemon's controller. ``type`` as "node.added", ...;
    ``seq`` numbers the daemon's events (a gap: events were missed)."""
    seq: int
    type: str
    node: Optional[str]
    object: Optional[str]
    message: str

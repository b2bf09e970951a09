#!/usr/bin/python3
"""Write the seed corpora of the fuzz targets (run from anywhere; the
corpora are committed, this documents how they were made):
  corpus_methods/  one request per RPC method, valid and a few invalid
  corpus_state/    state file bodies (first byte 0x01: the harness seals them)
  corpus_config/   YAML configurations (ours, Cilium's names, odd shapes)
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def pack(o):
    """A minimal MessagePack encoder: None, bool, int, str, list, dict."""
    if o is None:
        return b"\xc0"
    if o is True:
        return b"\xc3"
    if o is False:
        return b"\xc2"
    if isinstance(o, int):
        if 0 <= o < 128:
            return bytes([o])
        if -32 <= o < 0:
            return struct.pack("b", o)
        if 0 <= o < 2**32:
            return b"\xce" + struct.pack(">I", o)
        return b"\xd3" + struct.pack(">q", o)
    if isinstance(o, str):
        b = o.encode()
        if len(b) < 32:
            return bytes([0xA0 | len(b)]) + b
        return b"\xd9" + bytes([len(b)]) + b
    if isinstance(o, list):
        return bytes([0x90 | len(o)]) + b"".join(pack(x) for x in o)
    if isinstance(o, dict):
        return bytes([0x80 | len(o)]) + b"".join(pack(k) + pack(v) for k, v in o.items())
    raise TypeError(o)


def req(method, params=None, msgid=1):
    return pack([0, msgid, method, [] if params is None else [params]])


METHODS = {
    "status": req("status"),
    "status_verbose": req("status", {"verbose": True}),
    "node_add": req("node.add", {"name": "node-2", "ipv4": "192.168.1.11",
                                 "ipv6": "fd01::11", "pod_cidrs": ["10.0.1.0/24"]}),
    "node_add_bad_cidr": req("node.add", {"name": "n", "ipv4": "1.2.3.4", "pod_cidrs": ["10.0.0.0/33"]}),
    "node_update": req("node.update", {"name": "node-2", "ipv4": "192.168.1.12"}),
    "node_remove": req("node.remove", {"name": "node-2"}),
    "node_get": req("node.get", {"name": "node-2"}),
    "node_list": req("node.list"),
    "ipam_status": req("ipam.status"),
    "endpoint_add": req("endpoint.add", {"id": "pod-a", "ifname": "veth-a", "ip": "10.0.0.5"}),
    "endpoint_add_index": req("endpoint.add", {"id": "pod-b", "ifindex": 7}),
    "endpoint_remove": req("endpoint.remove", {"id": "pod-a"}),
    "endpoint_get": req("endpoint.get", {"id": "pod-a"}),
    "endpoint_get_bad_key": req("endpoint.get", {"name": "pod-a"}),
    "endpoint_list": req("endpoint.list"),
    "route_list": req("route.list"),
    "mode_get": req("mode.get"),
    "mode_set": req("mode.set", {"mode": "hybrid", "auto_direct_node_routes": True,
                                 "direct_routing_skip_unreachable": False}),
    "mode_set_nothing": req("mode.set", {}),
    "events_subscribe": req("events.subscribe", {"verbose": False}),
    "unknown_field": req("node.get", {"name": "x", "nmae": "y"}),
    "wrong_type": req("node.remove", {"name": 42}),
}

STATE_BODY = (
    "nativeroute-state\t2\n"
    "local\tnode-1\n"
    "owner\t201\t254\n"
    "ipam\tcluster-pool\t24\t112\n"
    "cluster_cidr\t10.0.0.0/16\n"
    "cluster_cidr\tfd00::/104\n"
    "native_routing_cidr\t10.0.0.0/16\n"
    "mode\tnative\t1\t0\n"
    "opts_mode\tnative\t1\t0\n"
    "node\t0\tnode-1\t192.168.1.10\t\t10.0.0.0/24\tfd00::/112\n"
    "node\t1\tnode-2\t192.168.1.11\tfd01::11\t10.0.1.0/24\tfd00::1:0/112\n"
    "endpoint\tpod-a\tveth-a\t7\t10.0.0.5\t\n"
)
STATE = {
    "sealed_v2": b"\x01" + STATE_BODY.encode(),
    "sealed_v1": b"\x01" + STATE_BODY.replace("state\t2", "state\t1")
    .replace("owner\t201\t254\n", "").replace("opts_mode\tnative\t1\t0\n", "").encode(),
    "sealed_kubernetes": b"\x01" + STATE_BODY.replace("cluster-pool", "kubernetes").encode(),
    "raw_unsealed": b"\x00" + STATE_BODY.encode() + b"end\t12\t00000000\n",
}

CONFIG = {
    "ours": "node-name: node-1\nnode-ip: 192.168.1.10\nmode: hybrid\n"
            "auto-direct-node-routes: true\nipam: cluster-pool\n"
            "cluster-cidr: [10.0.0.0/16, fd00::/104]\nmask-size: 24\nmask-size6: 112\n"
            "pod-cidr:\n  - 10.0.0.0/24\nlog-level: debug\nmax-clients: 64\n",
    "cilium": "node-name: n\nnode-ip: 192.168.1.10\nipam:\n  mode: kubernetes\n"
              "ipv4:\n  enabled: true\ntunnel: disabled\nrouting-mode: native\n"
              "autoDirectNodeRoutes: true\ncluster-pool-ipv4-cidr: 10.0.0.0/8\n"
              "cluster-pool-ipv4-mask-size: 24\nipv4-native-routing-cidr: 10.0.0.0/8\n",
    "cilium_v6": "node-name: n\nnode-ip6: fd01::10\nenable-ipv6: true\n"
                 "cluster-pool-ipv6-cidr: fd00::/104\ncluster-pool-ipv6-mask-size: 120\n"
                 "tunnel-protocol: vxlan\ntunnel-port: 8472\nrouting-mode: tunnel\n",
    "helm": "node-name: n\nnode-ip: 192.168.1.10\nipv6:\n  enabled: false\n"
            "ipam:\n  mode: cluster-pool\n  operator:\n    clusterPoolIPv4PodCIDRList: [10.0.0.0/8]\n",
    "flow": "{node-name: n, node-ip: 192.168.1.10, cluster-cidr: [10.0.0.0/16], a: {b: {c: 1}}}\n",
    "two_docs": "node-name: n\n---\nnode-name: m\n",
    "anchors": "base: &b {mode: native}\nother: *b\n",
}


def write(dirname, seeds):
    d = os.path.join(HERE, dirname)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())


write("corpus_methods", METHODS)
write("corpus_state", STATE)
write("corpus_config", CONFIG)

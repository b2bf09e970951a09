#!/usr/bin/python3
"""Print the pinned maps of a libnativeroute instance as text, decoding the
layouts of include/nativeroute/bpf.h from `bpftool -j map dump` output.

  bpf_dump.py routes DIR     one line per entry: "<cidr> <kind> <node ip|-> <ifindex>"
  bpf_dump.py endpoints DIR  "<ip> <ifindex> <pod mac> <host mac>"
  bpf_dump.py stats DIR      "<verdict> <packets> <bytes>" (summed over CPUs)
  bpf_dump.py ids DIR        "routes=<id> endpoints=<id> stats=<id>"
Lines are sorted. bpftool runs in this mount namespace (never under
`ip netns exec`, which hides /sys/fs/bpf)."""
import ipaddress
import json
import subprocess
import sys

KINDS = {1: "native", 2: "tunnel", 3: "endpoint"}
VERDICTS = ["redirect_peer", "redirect_neigh", "redirect_local", "pass_tunnel",
            "pass_no_route", "pass_ttl", "pass_fragment", "pass_not_ip", "pass_fib",
            "redirect_tunnel"]


def bpftool(*args):
    out = subprocess.run(["bpftool", "-j"] + list(args), check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def raw(x):
    return bytes(int(b, 16) for b in x)


def ip(family, b):
    if family == 2:
        return str(ipaddress.IPv4Address(b[:4]))
    if family == 10:
        return str(ipaddress.IPv6Address(b[:16]))
    return "-"


def mac(b):
    return ":".join("%02x" % c for c in b)


def routes(d):
    lines = []
    for e in bpftool("map", "dump", "pinned", d + "/routes"):
        k, v = raw(e["key"]), raw(e["value"])
        plen = int.from_bytes(k[0:4], "little") - 8
        net = ip(k[4], k[5:21])
        ifindex = int.from_bytes(v[16:20], "little")
        lines.append("%s/%d %s %s %d" % (net, plen, KINDS.get(v[21], "?%d" % v[21]),
                                         ip(v[20], v[0:16]), ifindex))
    return lines


def endpoints(d):
    lines = []
    for e in bpftool("map", "dump", "pinned", d + "/endpoints"):
        k, v = raw(e["key"]), raw(e["value"])
        lines.append("%s %d %s %s" % (ip(k[0], k[4:20]), int.from_bytes(v[0:4], "little"),
                                      mac(v[4:10]), mac(v[10:16])))
    return lines


def stats(d):
    lines = []
    for e in bpftool("map", "dump", "pinned", d + "/stats"):
        idx = int.from_bytes(raw(e["key"]), "little")
        pk = by = 0
        for cpu in e["values"]:
            v = raw(cpu["value"])
            pk += int.from_bytes(v[0:8], "little")
            by += int.from_bytes(v[8:16], "little")
        if idx < len(VERDICTS):
            lines.append("%s %d %d" % (VERDICTS[idx], pk, by))
    return lines


def ids(d):
    return [" ".join("%s=%d" % (m, bpftool("map", "show", "pinned", d + "/" + m)["id"])
                     for m in ("routes", "endpoints", "stats"))]


if __name__ == "__main__":
    what, d = sys.argv[1], sys.argv[2]
    for line in sorted({"routes": routes, "endpoints": endpoints, "stats": stats,
                        "ids": ids}[what](d)):
        print(line)

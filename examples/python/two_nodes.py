#!/usr/bin/python3
"""Add two nodes to a nativerouted daemon and print the routes it plans.

    two_nodes.py [--socket PATH] [--remove]

Needs the nativeroute package (bindings/python) and libnativeroute.so.1.
With --remove the two nodes are removed again at the end."""
import argparse
import sys
import time

import nativeroute

NODES = [("example-a", "192.168.1.201"), ("example-b", "192.168.1.202")]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--socket", default=nativeroute.DEFAULT_SOCKET)
    ap.add_argument("--remove", action="store_true", help="remove the nodes at the end")
    args = ap.parse_args()
    try:
        with nativeroute.Client(args.socket) as c:
            for name, ip in NODES:
                try:
                    node = c.add_node(name, ipv4=ip)
                    print("added %s (%s) with pod CIDRs %s" % (name, ip, ", ".join(node.pod_cidrs)))
                except nativeroute.AlreadyExists:
                    print("%s is already there" % name)
            # the routes reach the kernel within the next reconcile pass
            for _ in range(100):
                routes = c.routes()
                if all(r.programmed for r in routes):
                    break
                time.sleep(0.02)
            print("%-20s %-9s %-16s %-10s %s" % ("DESTINATION", "KIND", "VIA", "NODE", "PROGRAMMED"))
            for r in routes:
                print("%-20s %-9s %-16s %-10s %s" % (r.dst, r.kind, r.via or "-", r.node or "-",
                                                     "yes" if r.programmed else "no"))
            if args.remove:
                for name, _ in NODES:
                    c.remove_node(name)
    except nativeroute.NativeRouteError as e:
        print("two_nodes: %s (%s)" % (e.message, e.name), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

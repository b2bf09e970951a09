// orchestrator: a tiny orchestrator loop on the Go binding. It keeps the
// nodes given on the command line in a nativerouted daemon: it adds the
// missing ones, then watches the daemon's events and puts back any of them
// that someone removes, until interrupted (or after -repairs N repairs).
//
//	orchestrator [-socket PATH] [-repairs N] NAME=IP...
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"nativeroute"
)

func main() {
	socket := flag.String("socket", nativeroute.DefaultSocket, "daemon socket")
	maxRepairs := flag.Int("repairs", 0, "exit after putting back this many nodes (0: run until interrupted)")
	flag.Parse()
	want := map[string]string{}
	for _, arg := range flag.Args() {
		name, ip, ok := strings.Cut(arg, "=")
		if !ok {
			log.Fatalf("%q: expected NAME=IP", arg)
		}
		want[name] = ip
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	c, err := nativeroute.Dial(ctx, *socket, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	events, err := c.Events(ctx) // subscribe first: no change is missed
	if err != nil {
		log.Fatal(err)
	}
	for name, ip := range want {
		ensure(ctx, c, name, ip)
	}
	repairs := 0
	for ev := range events { // closes when the daemon goes away or ctx ends
		fmt.Printf("event %d %s %s: %s\n", ev.Seq, ev.Type, ev.Node, ev.Message)
		if ip, ok := want[ev.Node]; ok && ev.Type == "node.removed" {
			ensure(ctx, c, ev.Node, ip)
			if repairs++; *maxRepairs > 0 && repairs >= *maxRepairs {
				return
			}
		}
	}
}

// ensure adds the node unless it is there.
func ensure(ctx context.Context, c *nativeroute.Client, name, ip string) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	n, err := c.AddNode(cctx, nativeroute.NodeSpec{Name: name, IPv4: ip})
	switch {
	case errors.Is(err, syscall.EEXIST):
		fmt.Printf("node %s: already there\n", name)
	case err != nil:
		log.Printf("node %s: %v", name, err)
	default:
		fmt.Printf("node %s: added with %v\n", n.Name, n.PodCIDRs)
	}
}

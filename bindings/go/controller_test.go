package nativeroute

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// An in-process controller in node-2 of the test topology (192.168.1.11),
// which no daemon uses: kubernetes IPAM, native mode.
func TestControllerInProcess(t *testing.T) {
	ns := os.Getenv("NR_TEST_NETNS2")
	if ns == "" {
		t.Skip("run by tests/integration/test_go_binding.sh (needs a namespace)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := NewController(ctx, ControllerOptions{Netns: ns, NodeName: "node-2",
		NodeIPv4: "not-an-ip", IPAMMode: "kubernetes"}); !errors.Is(err, syscall.EINVAL) ||
		!strings.Contains(err.Error(), "not-an-ip") {
		t.Fatalf("bad option: %v", err)
	}
	x, err := NewController(ctx, ControllerOptions{Netns: ns, NodeName: "node-2",
		NodeIPv4: "192.168.1.11", IPAMMode: "kubernetes", PodCIDRs: []string{"10.1.0.0/24"},
		AutoDirectNodeRoutes: true})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	events, _ := x.Events(ctx)
	// A node given before Start (an orchestrator replaying what it knows)
	// is acknowledged by the first pass: wait for it while starting.
	added := make(chan error, 1)
	go func() {
		added <- x.AddNode(ctx, NodeSpec{Name: "node-1", IPv4: "192.168.1.10",
			PodCIDRs: []string{"10.1.1.0/24"}})
	}()
	for st, _ := x.Status(ctx); st == nil || st.Nodes < 2; st, _ = x.Status(ctx) {
		time.Sleep(time.Millisecond) // until the model has it
	}
	if err := x.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-added; err != nil {
		t.Fatal(err)
	}
	if r := kernelRoutes(t, ns); !strings.Contains(r, "10.1.1.0/24") || !strings.Contains(r, "192.168.1.10") {
		t.Fatalf("kernel after Start: %s", r)
	}
	st, err := x.Status(ctx)
	if err != nil || !st.Started || st.Nodes != 2 || st.RoutesProgrammed < 1 {
		t.Fatalf("Status: %+v %v", st, err)
	}
	nodes, err := x.Nodes(ctx)
	if err != nil || len(nodes) != 2 || !hasNode(nodes, "node-1") {
		t.Fatalf("Nodes: %+v %v", nodes, err)
	}
	routes, err := x.Routes(ctx)
	if err != nil || len(routes) == 0 || routes[0].Dst != "10.1.1.0/24" || !routes[0].Programmed {
		t.Fatalf("Routes: %+v %v", routes, err)
	}
	if err := x.AddNode(ctx, NodeSpec{Name: "node-1", IPv4: "192.168.1.10"}); !errors.Is(err, syscall.EEXIST) {
		t.Fatalf("duplicate: %v", err)
	}
	if err := x.RemoveNode(ctx, "node-1"); err != nil {
		t.Fatal(err)
	}
	if r := kernelRoutes(t, ns); strings.Contains(r, "10.1.1.0/24") {
		t.Fatalf("kernel after RemoveNode: %s", r)
	}
	seen := map[string]bool{}
	timeout := time.After(5 * time.Second)
	for !seen["node.removed"] {
		select {
		case ev := <-events:
			seen[ev.Type] = true
		case <-timeout:
			t.Fatalf("events seen: %v", seen)
		}
	}
	if !seen["node.added"] {
		t.Fatalf("events seen: %v", seen)
	}
	x.Close()
	if _, ok := <-events; ok {
		for range events {
		}
	}
	if err := x.Start(ctx); !errors.Is(err, syscall.ECANCELED) {
		t.Fatalf("after Close: %v", err)
	}
}

package nativeroute

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The daemon of tests/integration/test_go_binding.sh (node-1 of the seed
// topology: native mode, auto-direct-node-routes, cluster-pool 10.0.0.0/21).
func daemon(t *testing.T) (string, string) {
	sock, ns := os.Getenv("NR_TEST_SOCKET"), os.Getenv("NR_TEST_NETNS")
	if sock == "" || ns == "" {
		t.Skip("run by tests/integration/test_go_binding.sh (needs a daemon in a namespace)")
	}
	return sock, ns
}

func dial(t *testing.T) *Client {
	sock, _ := daemon(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, sock, nil)
	if err != nil {
		t.Fatalf("Dial(%s): %v", sock, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func kernelRoutes(t *testing.T, ns string) string {
	out, err := exec.Command("ip", "-n", ns, "route", "show", "proto", "201").CombinedOutput()
	if err != nil {
		t.Fatalf("ip route: %v: %s", err, out)
	}
	return string(out)
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func ctx10(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestStatus(t *testing.T) {
	c := dial(t)
	st, err := c.Status(ctx10(t))
	if err != nil {
		t.Fatal(err)
	}
	if st.RoutingMode != "native" || st.IPAMMode != "cluster-pool" || !st.Started ||
		!st.AutoDirectNodeRoutes || st.Nodes < 1 {
		t.Fatalf("status: %+v", st)
	}
}

func TestNodeLifeCycleReachesTheKernel(t *testing.T) {
	c := dial(t)
	_, ns := daemon(t)
	ctx := ctx10(t)
	n, err := c.AddNode(ctx, NodeSpec{Name: "go-a", IPv4: "192.168.1.71"})
	if err != nil {
		t.Fatal(err)
	}
	if n.Name != "go-a" || n.IPv4 != "192.168.1.71" || len(n.PodCIDRs) != 1 {
		t.Fatalf("added: %+v", n)
	}
	cidr := n.PodCIDRs[0]
	eventually(t, cidr+" in the kernel", func() bool { return strings.Contains(kernelRoutes(t, ns), cidr) })
	got, err := c.Node(ctx, "go-a")
	if err != nil || got.PodCIDRs[0] != cidr {
		t.Fatalf("Node: %+v %v", got, err)
	}
	if _, err := c.UpdateNode(ctx, NodeSpec{Name: "go-a", IPv4: "192.168.1.72", PodCIDRs: []string{cidr}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the route via the new IP", func() bool {
		return strings.Contains(kernelRoutes(t, ns), "via 192.168.1.72")
	})
	nodes, err := c.Nodes(ctx)
	if err != nil || !hasNode(nodes, "go-a") {
		t.Fatalf("Nodes: %+v %v", nodes, err)
	}
	if err := c.RemoveNode(ctx, "go-a"); err != nil {
		t.Fatal(err)
	}
	eventually(t, cidr+" gone", func() bool { return !strings.Contains(kernelRoutes(t, ns), cidr) })
}

func hasNode(nodes []Node, name string) bool {
	for _, n := range nodes {
		if n.Name == name {
			return true
		}
	}
	return false
}

func TestErrorsAreErrnosWithTheDaemonsMessage(t *testing.T) {
	c := dial(t)
	ctx := ctx10(t)
	if _, err := c.AddNode(ctx, NodeSpec{Name: "go-dup", IPv4: "192.168.1.73"}); err != nil {
		t.Fatal(err)
	}
	defer c.RemoveNode(ctx, "go-dup")
	_, err := c.AddNode(ctx, NodeSpec{Name: "go-dup", IPv4: "192.168.1.74"})
	if !errors.Is(err, syscall.EEXIST) {
		t.Fatalf("duplicate: %v, want EEXIST", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Name != "EEXIST" || !strings.Contains(e.Message, "go-dup") {
		t.Fatalf("duplicate: %#v", err)
	}
	if _, err := c.Node(ctx, "go-nosuch"); !errors.Is(err, syscall.ENOENT) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing node: %v, want ENOENT", err)
	}
	if _, err := c.SetMode(ctx, ModeChange{Mode: "bogus"}); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("bogus mode: %v", err)
	}
}

func TestPoolExhaustedIsENOSPC(t *testing.T) {
	c := dial(t)
	ctx := ctx10(t)
	var added []string
	defer func() {
		for _, n := range added {
			c.RemoveNode(ctx, n)
		}
	}()
	var err error
	for i := 0; i < 10 && err == nil; i++ {
		name := "go-pool-" + string(rune('a'+i))
		if _, err = c.AddNode(ctx, NodeSpec{Name: name, IPv4: "192.168.1." + []string{"80", "81", "82", "83", "84", "85", "86", "87", "88", "89"}[i]}); err == nil {
			added = append(added, name)
		}
	}
	if !errors.Is(err, syscall.ENOSPC) || len(added) == 0 || len(added) > 7 {
		t.Fatalf("after %d nodes: %v, want ENOSPC", len(added), err)
	}
	ipam, err := c.IPAM(ctx)
	if err != nil || ipam.Used != 8 || ipam.Total != 8 || len(ipam.Allocations) != 8 {
		t.Fatalf("IPAM: %+v %v", ipam, err)
	}
}

func TestEndpointsRoutesAndMode(t *testing.T) {
	c := dial(t)
	_, ns := daemon(t)
	ctx := ctx10(t)
	ep, err := c.AddEndpoint(ctx, EndpointSpec{ID: "go-pod", IfName: "vpa2"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the pod's route", func() bool { return strings.Contains(kernelRoutes(t, ns), ep.IPv4+" dev vpa2") })
	eps, err := c.Endpoints(ctx)
	if err != nil || len(eps) == 0 {
		t.Fatalf("Endpoints: %v %v", eps, err)
	}
	routes, err := c.Routes(ctx)
	found := false
	for _, r := range routes {
		found = found || (r.Dst == ep.IPv4+"/32" && r.Kind == "endpoint" && r.Dev == "vpa2")
	}
	if err != nil || !found {
		t.Fatalf("Routes: %+v %v", routes, err)
	}
	if err := c.RemoveEndpoint(ctx, "go-pod"); err != nil {
		t.Fatal(err)
	}
	on, off := true, false
	m, err := c.SetMode(ctx, ModeChange{Mode: "hybrid", DirectRoutingSkipUnreachable: &on})
	if err != nil || m.Mode != "hybrid" || !m.DirectRoutingSkipUnreachable {
		t.Fatalf("SetMode hybrid: %+v %v", m, err)
	}
	m, err = c.SetMode(ctx, ModeChange{Mode: "native", DirectRoutingSkipUnreachable: &off})
	if err != nil || m.Mode != "native" || m.DirectRoutingSkipUnreachable || !m.AutoDirectNodeRoutes {
		t.Fatalf("SetMode native: %+v %v", m, err)
	}
	if m, err = c.Mode(ctx); err != nil || m.Mode != "native" {
		t.Fatalf("Mode: %+v %v", m, err)
	}
}

func TestManyGoroutinesShareOneClient(t *testing.T) {
	c := dial(t)
	ctx := ctx10(t)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var err error
			if i%2 == 0 {
				_, err = c.Status(ctx)
			} else {
				_, err = c.Nodes(ctx)
			}
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestEventsChannelClosesOnClose(t *testing.T) {
	watcher, actor := dial(t), dial(t)
	ctx := ctx10(t)
	ch, err := watcher.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := actor.AddNode(ctx, NodeSpec{Name: "go-ev", IPv4: "192.168.1.75"}); err != nil {
		t.Fatal(err)
	}
	if err := actor.RemoveNode(ctx, "go-ev"); err != nil {
		t.Fatal(err)
	}
	var types []string
	for ev := range ch {
		if ev.Node == "go-ev" {
			types = append(types, ev.Type)
			if ev.Seq == 0 || ev.Message == "" {
				t.Fatalf("event: %+v", ev)
			}
		}
		if len(types) > 0 && types[len(types)-1] == "node.removed" {
			break
		}
	}
	if types[0] != "node.added" {
		t.Fatalf("events: %v", types)
	}
	watcher.Close()
	for range ch { // drains, then closes
	}
	if _, err := watcher.Status(ctx); !errors.Is(err, syscall.ECANCELED) {
		t.Fatalf("after Close: %v, want ECANCELED", err)
	}
}

// A daemon that never answers: a listening socket nobody reads.
func muteSocket(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "mute.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { conn.Close() })
		}
	}()
	return path
}

func TestContextDeadlineAndCancellationAreHonoured(t *testing.T) {
	daemon(t)
	c, err := Dial(ctx10(t), muteSocket(t), &ClientOptions{Timeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	if _, err := c.Status(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Status past its deadline: %v", err)
	}
	if d := time.Since(t0); d > time.Second {
		t.Fatalf("returned after %v", d)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel2() }()
	if _, err := c.Nodes(ctx2); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Nodes: %v", err)
	}
}

func TestLibraryTimeoutIsETIMEDOUT(t *testing.T) {
	daemon(t)
	c, err := Dial(ctx10(t), muteSocket(t), &ClientOptions{Timeout: 150 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Status(ctx10(t)); !errors.Is(err, syscall.ETIMEDOUT) {
		t.Fatalf("Status: %v, want ETIMEDOUT", err)
	}
}

func TestDialAMissingSocket(t *testing.T) {
	daemon(t)
	_, err := Dial(ctx10(t), "/nonexistent/nr.sock", nil)
	if !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("Dial: %v, want ENOENT", err)
	}
}

func TestEventsChannelClosesWhenTheDaemonGoes(t *testing.T) {
	daemon(t)
	sock, pid := os.Getenv("NR_TEST_VICTIM_SOCKET"), os.Getenv("NR_TEST_VICTIM_PID")
	if sock == "" || pid == "" {
		t.Skip("no second daemon to stop")
	}
	c, err := Dial(ctx10(t), sock, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ch, err := c.Events(ctx10(t))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("kill", "-TERM", pid).CombinedOutput(); err != nil {
		t.Fatalf("kill %s: %v %s", pid, err, out)
	}
	timeout := time.After(10 * time.Second)
	for open := true; open; {
		select {
		case _, open = <-ch:
		case <-timeout:
			t.Fatal("the events channel did not close when the daemon went away")
		}
	}
	_, err = c.Status(ctx10(t))
	if !errors.Is(err, syscall.ENOTCONN) && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("Status after the daemon went: %v", err)
	}
}

func TestVersionsFollowTheLibrary(t *testing.T) {
	if err := checkVersion(); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%d.%d.", versionMajor, versionMinor); !strings.HasPrefix(Version, want) {
		t.Fatalf("Version %s does not start with %s", Version, want)
	}
	lib, mine := strings.Split(LibraryVersion(), "."), strings.Split(Version, ".")
	if len(lib) != 3 || lib[0] != mine[0] {
		t.Fatalf("library %s, binding %s", LibraryVersion(), Version)
	}
}

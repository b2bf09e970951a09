package nativeroute

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Endpoint.get and the status fields past 1.0, against the daemons of
// tests/integration/lib/binding_daemon.sh: the plain one, and one with
// --bpf, masquerading and an etcd store; checked against the kernel
// (nftables, the pinned maps) where it can be.

func TestEndpointGetAnswersTheEndpointAsAddedAndListed(t *testing.T) {
	c := dial(t)
	_, ns := daemon(t)
	ctx := ctx10(t)
	ep, err := c.AddEndpoint(ctx, EndpointSpec{ID: "go-get", IfName: "vpa3"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Endpoint(ctx, "go-get")
	if err != nil || !reflect.DeepEqual(got, ep) {
		t.Fatalf("Endpoint: %+v %v, added %+v", got, err, ep)
	}
	if got.IfName != "vpa3" || got.MTU != 1500 || !strings.Contains(kernelRoutes(t, ns), got.IPv4+" dev vpa3") {
		t.Fatalf("Endpoint: %+v, kernel: %s", got, kernelRoutes(t, ns))
	}
	eps, _ := c.Endpoints(ctx)
	listed := false
	for _, e := range eps {
		listed = listed || reflect.DeepEqual(&e, got)
	}
	if !listed {
		t.Fatalf("Endpoint %+v is not the endpoint.list item: %+v", got, eps)
	}
	if err := c.RemoveEndpoint(ctx, "go-get"); err != nil {
		t.Fatal(err)
	}
	var e *Error
	if _, err = c.Endpoint(ctx, "go-get"); !errors.Is(err, syscall.ENOENT) || !errors.As(err, &e) ||
		!strings.Contains(e.Message, `"go-get"`) {
		t.Fatalf("Endpoint of a removed pod: %v", err)
	}
	if _, err = c.Endpoint(ctx, ""); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("Endpoint(\"\"): %v", err)
	}
}

func nftTable(t *testing.T, ns string) string {
	out, _ := exec.Command("ip", "netns", "exec", ns, "nft", "list", "table", "inet", "nativeroute").CombinedOutput()
	return string(out)
}

func TestStatusOfThePlainDaemonSaysWhatItRunsWithout(t *testing.T) {
	c := dial(t)
	_, ns := daemon(t)
	ctx := ctx10(t)
	var st *Status
	eventually(t, "masquerading programmed", func() bool {
		s, err := c.Status(ctx)
		st = s
		return err == nil && s.Masquerade != nil && s.Masquerade.Programmed
	})
	if st.HostRouting != "Legacy" || !strings.Contains(st.HostRoutingReason, "--bpf") || st.BPF != nil {
		t.Fatalf("eBPF fields of a daemon without --bpf: %+v", st)
	}
	if st.Store != "file" || st.Etcd != nil {
		t.Fatalf("store fields: %q %+v", st.Store, st.Etcd)
	}
	if !st.Healthy || st.Problems != "" || st.Version != LibraryVersion() || st.LocalNode != "node-1" ||
		!strings.HasPrefix(st.PodCIDR4, "10.0.") || st.PodCIDR6 != "" || st.PodIPsTotal4 != 254 ||
		st.StoreError != 0 || st.NetnsGone {
		t.Fatalf("health fields: %+v", st)
	}
	m := st.Masquerade
	table := nftTable(t, ns)
	if !m.IPv4 || m.IPv6 || !contains(m.Excluded, "10.0.0.0/21") || !strings.Contains(table, "10.0.0.0/21") ||
		!strings.Contains(table, "masquerade") {
		t.Fatalf("masquerade: %+v, kernel: %s", m, table)
	}
}

func contains(v []string, s string) bool {
	for _, x := range v {
		if x == s {
			return true
		}
	}
	return false
}

// mapEntries counts the entries of a pinned map with bpftool.
func mapEntries(t *testing.T, path string) int {
	out, err := exec.Command("bpftool", "-j", "map", "dump", "pinned", path).Output()
	var entries []json.RawMessage
	if err != nil || json.Unmarshal(out, &entries) != nil {
		t.Fatalf("bpftool map dump %s: %v %s", path, err, out)
	}
	return len(entries)
}

func TestStatusWithEBPFMasqueradingAndEtcd(t *testing.T) {
	sock, ns, url := os.Getenv("NR_TEST_FEATURE_SOCKET"), os.Getenv("NR_TEST_FEATURE_NETNS"),
		os.Getenv("NR_TEST_FEATURE_ETCD")
	if sock == "" {
		t.Skip("no daemon with eBPF, masquerading and etcd")
	}
	// A generous bound for this daemon: attaching the tc programs of an
	// endpoint waits for the kernel's rtnl lock, which namespace teardowns of
	// tests running alongside can hold for many seconds on a busy machine.
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c, err := Dial(ctx, sock, &ClientOptions{Timeout: 60 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var st *Status
	eventually(t, "etcd healthy, masquerading programmed", func() bool {
		s, err := c.Status(ctx)
		st = s
		return err == nil && s.Etcd != nil && s.Etcd.Healthy && s.Masquerade != nil && s.Masquerade.Programmed
	})
	if st.Store != "etcd" || !st.Etcd.UnhealthySince.IsZero() || !strings.HasPrefix(st.Etcd.Detail, "Ok (") ||
		!strings.Contains(st.Etcd.Detail, url) {
		t.Fatalf("etcd fields: %q %+v", st.Store, st.Etcd)
	}
	if m := st.Masquerade; !m.IPv4 || !contains(m.Excluded, "10.8.0.0/16") ||
		!strings.Contains(nftTable(t, ns), "10.8.0.0/16") {
		t.Fatalf("masquerade: %+v", m)
	}
	if st.HostRouting != "BPF" || st.HostRoutingReason != "" || st.BPF == nil ||
		len(st.BPF.Packets) != 10 {
		t.Fatalf("eBPF fields: %q %q %+v", st.HostRouting, st.HostRoutingReason, st.BPF)
	}
	if _, ok := st.BPF.Packets["redirect_peer"]; !ok {
		t.Fatalf("verdict names: %v", st.BPF.Packets)
	}
	before := st.BPF.Endpoints
	var ep *Endpoint
	for deadline := time.Now().Add(20 * time.Second); ep == nil; time.Sleep(100 * time.Millisecond) {
		// EAGAIN until etcd confirmed this node's CIDR
		if ep, err = c.AddEndpoint(ctx, EndpointSpec{ID: "go-feat", IfName: "fpa0"}); err != nil &&
			(!errors.Is(err, syscall.EAGAIN) || time.Now().After(deadline)) {
			t.Fatal(err)
		}
	}
	defer c.RemoveEndpoint(ctx, "go-feat")
	pins := filepath.Join("/sys/fs/bpf/nativeroute", "feat@"+ns)
	eventually(t, "the endpoint in the map count", func() bool {
		s, err := c.Status(ctx)
		st = s
		return err == nil && s.BPF.Endpoints == before+1
	})
	if int(st.BPF.Endpoints) != mapEntries(t, pins+"/endpoints") ||
		int(st.BPF.Routes) != mapEntries(t, pins+"/routes") || st.BPF.Routes < 1 {
		t.Fatalf("BPF %+v, maps: %d endpoints, %d routes", st.BPF,
			mapEntries(t, pins+"/endpoints"), mapEntries(t, pins+"/routes"))
	}
}

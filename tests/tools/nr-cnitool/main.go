// nr-cnitool: the reference libcni (Debian's golang-github-appc-cni-dev) -
// the library containerd, CRI-O and podman drive CNI plugins with - behind
// a cnitool-like command line, so the tests run nativeroute-cni exactly as
// those runtimes do: the list validated (VERSION of every plugin), the
// configuration built and injected by libcni, prevResult and capability
// arguments, results cached and converted, DEL in reverse order.
//
//	nr-cnitool validate|add|check|del CONFLIST NETNS CONTAINERID IFNAME [CAPABILITY_ARGS_JSON]
//
// CNI_PATH names the plugin directories, NR_CNI_CACHE the cache directory.
// A result is printed as JSON; a plugin's error as its {code, msg, details}
// on stdout with exit status 1.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/types"
)

func fail(err error) {
	var te *types.Error
	if errors.As(err, &te) {
		out, _ := json.Marshal(te)
		fmt.Println(string(out))
	} else {
		out, _ := json.Marshal(map[string]interface{}{"code": 999, "msg": err.Error()})
		fmt.Println(string(out))
	}
	os.Exit(1)
}

func main() {
	if len(os.Args) < 6 {
		fmt.Fprintln(os.Stderr, "usage: nr-cnitool validate|add|check|del CONFLIST NETNS CONTAINERID IFNAME [CAPABILITY_ARGS_JSON]")
		os.Exit(2)
	}
	list, err := libcni.ConfListFromFile(os.Args[2])
	if err != nil {
		fail(err)
	}
	rt := &libcni.RuntimeConf{
		ContainerID: os.Args[4],
		NetNS:       os.Args[3],
		IfName:      os.Args[5],
		// what kubelet's CRI runtimes pass
		Args: [][2]string{{"IgnoreUnknown", "1"}, {"K8S_POD_NAMESPACE", "default"},
			{"K8S_POD_NAME", os.Args[4]}},
	}
	if len(os.Args) > 6 && os.Args[6] != "" {
		if err := json.Unmarshal([]byte(os.Args[6]), &rt.CapabilityArgs); err != nil {
			fail(err)
		}
	}
	cni := libcni.NewCNIConfigWithCacheDir(filepath.SplitList(os.Getenv("CNI_PATH")),
		os.Getenv("NR_CNI_CACHE"), nil)
	ctx := context.Background()
	switch os.Args[1] {
	case "validate":
		caps, err := cni.ValidateNetworkList(ctx, list)
		if err != nil {
			fail(err)
		}
		fmt.Println(caps)
	case "add":
		res, err := cni.AddNetworkList(ctx, list, rt)
		if err != nil {
			fail(err)
		}
		if err := res.Print(); err != nil {
			fail(err)
		}
	case "check":
		if err := cni.CheckNetworkList(ctx, list, rt); err != nil {
			fail(err)
		}
	case "del":
		if err := cni.DelNetworkList(ctx, list, rt); err != nil {
			fail(err)
		}
	default:
		fmt.Fprintln(os.Stderr, "unknown command", os.Args[1])
		os.Exit(2)
	}
}

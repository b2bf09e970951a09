# bindings/go against a real daemon (and an in-process controller) in
# network namespaces: go vet, go test, and go test -race, building with cgo
# against the release install's nativeroute.pc, offline (standard library
# only; caches inside the build tree so a fresh clone works).
. "$(dirname "$0")/lib/common.sh"
command -v go >/dev/null || nr_fail "go is not installed (golang-go)"
. "$(dirname "$0")/lib/binding_daemon.sh"
libdir=$(dirname "$NATIVEROUTE_LIBRARY")
export GOCACHE="$NR_BUILD_DIR/go/cache" GOPATH="$NR_BUILD_DIR/go/path" GOFLAGS=-mod=mod \
	GOPROXY=off GOTOOLCHAIN=local GO111MODULE=on CGO_ENABLED=1 \
	PKG_CONFIG_PATH="$libdir/pkgconfig" LD_LIBRARY_PATH="$libdir"
cd "$NR_SOURCE_DIR/bindings/go"
echo "== go vet"
go vet ./...
echo "== go test"
go test -count=1 -v ./...
echo "== go test -race"
nr_start_victim # the first run stopped it
go test -count=1 -race ./...
nr_ok "Go binding: vet clean, tests and race detector pass"

echo "== examples/go/orchestrator"
cd "$NR_SOURCE_DIR/examples/go/orchestrator"
go vet ./...
go build -o "$BTMP/orchestrator" .
"$BTMP/orchestrator" -socket "$NR_TEST_SOCKET" -repairs 1 example-go=192.168.1.210 >"$BTMP/orch.out" 2>&1 &
orch=$!
nrctl_() { "$NR_BIN_DIR/nrctl" --socket "$NR_TEST_SOCKET" "$@"; }
nr_wait_for 10 sh -c "'$NR_BIN_DIR/nrctl' --socket '$NR_TEST_SOCKET' nodes | grep -q example-go" ||
	{ cat "$BTMP/orch.out"; nr_fail "the orchestrator did not add its node"; }
nrctl_ node del example-go
wait "$orch" || { cat "$BTMP/orch.out"; nr_fail "orchestrator exit $?"; }
cat "$BTMP/orch.out"
nr_expect_match "$(cat "$BTMP/orch.out")" 'event [0-9]+ node.removed example-go' "orchestrator saw the removal"
nr_expect_match "$(nrctl_ nodes)" 'example-go +192\.168\.1\.210' "orchestrator put the node back"
nrctl_ node del example-go

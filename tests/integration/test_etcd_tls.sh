# etcd over TLS with client certificates (--client-cert-auth): two
# nativerouted given --etcd-ca-file/--etcd-cert-file/--etcd-key-file join and
# route each other over https; one without a client certificate, and one
# that does not trust the server's CA, are refused with the TLS reason in
# their status.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/etcd.sh"
command -v openssl >/dev/null || { echo "SKIP: openssl not installed"; exit 77; }

nr_etcd_test t node-1=192.168.1.10 node-2=192.168.1.11 node-3=192.168.1.12

# ---- a CA, a server certificate for 127.0.0.1, a client certificate; and a
# second CA nobody uses --------------------------------------------------------
cert() { # NAME CA SAN-or-empty
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/$1.key" \
		-out "$TMP/$1.csr" -subj "/CN=$1" 2>/dev/null
	openssl x509 -req -in "$TMP/$1.csr" -CA "$TMP/$2.crt" -CAkey "$TMP/$2.key" -CAcreateserial \
		-out "$TMP/$1.crt" -days 1 ${3:+-extfile <(printf 'subjectAltName=%s\n' "$3")} 2>/dev/null
}
for ca in ca other-ca; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/$ca.key" \
		-out "$TMP/$ca.crt" -days 1 -subj "/CN=nrt-$ca" 2>/dev/null
done
cert server ca IP:127.0.0.1
cert client ca ""
nr_ok "certificates made with openssl (CA, server for 127.0.0.1, client)"

read -r cport pport <<<"$(nr_free_ports 2)"
URL=https://127.0.0.1:$cport
etcd --name t --data-dir "$NR_ETCD_DATA/t" --listen-client-urls "$URL" --advertise-client-urls "$URL" \
	--listen-peer-urls "http://127.0.0.1:$pport" --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
	--initial-cluster "t=http://127.0.0.1:$pport" --cert-file "$TMP/server.crt" \
	--key-file "$TMP/server.key" --client-cert-auth --trusted-ca-file "$TMP/ca.crt" \
	--logger zap --log-level error >"$TMP/etcd.log" 2>&1 &
NR_ETCD_PID[t]=$!
tls_health() {
	curl -fsS -m 1 --cacert "$TMP/ca.crt" --cert "$TMP/client.crt" --key "$TMP/client.key" \
		"$URL/health" | grep -q '"health":"true"'
}
nr_wait_for 20 tls_health || { cat "$TMP/etcd.log"; nr_fail "etcd over TLS did not come up"; }
curl -sS -m 2 --cacert "$TMP/ca.crt" "$URL/health" >/dev/null 2>&1 &&
	nr_fail "etcd answered a client without a certificate"
nr_ok "etcd at $URL requires a client certificate"

start_daemon() { # NODE TLS-FLAGS...
	local n=$1
	shift
	nr_etcd_daemon "$n" --store etcd --etcd-endpoints "$URL" --etcd-lease-ttl 3 "$@"
}

nr_topo_up "$NR_P"
nr_topo_node "$NR_P" node-3 192.168.1.12/24
for n in node-1 node-2; do
	start_daemon "$n" --etcd-ca-file "$TMP/ca.crt" --etcd-cert-file "$TMP/client.crt" \
		--etcd-key-file "$TMP/client.key"
done
nr_etcd_joined node-1 node-2
c2=$(cidr_of node-2)
nr_wait_for 10 sh -c "ip -n ${NR_P}node-1 route show proto 201 | grep -q '^$c2 .*via 192.168.1.11'" ||
	nr_fail "node-1 does not route node-2's $c2"
nr_expect_match "$(nrctl node-1 status)" "^Store: etcd Ok \\(https://127\\.0\\.0\\.1:$cport" "node-1: Store: etcd Ok over https"
nr_ok "over TLS with client certificates: node-1 routes node-2's $c2"

# ---- refused: no client certificate; a server CA we do not trust ----------------
start_daemon node-3 --etcd-ca-file "$TMP/ca.crt"
nr_wait_for 10 sh -c "'$NR_BIN_DIR/nrctl' --socket '$TMP/node-3.sock' status 2>/dev/null | grep -q '^Store: etcd unreachable'" ||
	nr_fail "a daemon without a client certificate is not reported unreachable"
v=$(nrctl node-3 status || true)
nr_expect_match "$v" "^Store: etcd unreachable .*$URL" "no client certificate: unreachable, naming the endpoint"
echo "$v" | grep '^Store:'
kill "${DPID[node-3]}"; wait "${DPID[node-3]}" 2>/dev/null || true
rm -rf "$TMP/node-3.state" "$TMP/node-3.sock"
start_daemon node-3 --etcd-ca-file "$TMP/other-ca.crt" --etcd-cert-file "$TMP/client.crt" \
	--etcd-key-file "$TMP/client.key"
nr_wait_for 10 sh -c "'$NR_BIN_DIR/nrctl' --socket '$TMP/node-3.sock' status 2>/dev/null | grep -qi '^Store: etcd unreachable.*certificate'" ||
	nr_fail "an untrusted server certificate is not named: $(nrctl node-3 status || true)"
nr_ok "untrusted server CA: Store: etcd unreachable (... certificate ...)"
nr_expect_no_match "$(nrctl node-1 nodes)" 'node-3' "node-3 never registered"
for n in node-1 node-2 node-3; do
	kill -TERM "${DPID[$n]}"
	wait "${DPID[$n]}" || nr_fail "$n exited with $? on SIGTERM"
done
nr_expect_no_match "$(cat "$TMP"/node-*.log)" "AddressSanitizer|LeakSanitizer|runtime error" \
	"no sanitizer report in any daemon log"
echo "PASS"

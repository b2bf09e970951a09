# Sourced by scripts/test and scripts/demo: install every Debian package the
# build, the tests and the demo need. Idempotent and quiet when all is there.
NR_DEBIAN_PACKAGES=(
	build-essential cmake pkg-config g++
	libuv1-dev libmnl-dev libmsgpack-dev libbpf-dev bpftool clang llvm
	libcriterion-dev libyaml-dev libcurl4-openssl-dev libjson-c-dev
	libclang-rt-14-dev abigail-tools libnftables-dev nftables etcd-server jq curl
	iproute2 iputils-ping tcpdump procps strace util-linux gawk
	containernetworking-plugins iptables jq golang-go golang-github-appc-cni-dev
	linux-libc-dev iperf3 sockperf
	python3 python3-pytest python3-pip python3-setuptools python3-wheel golang-go
)

nr_install_deps() {
	local missing=()
	local p
	for p in "${NR_DEBIAN_PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing packages: ${missing[*]} (run as root to install them)" >&2
		return 1
	fi
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
}

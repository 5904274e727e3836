// Package guestproto is the contract between the host-side rig and the
// guest's init (initramfs/uinit), written once and used by both:
//
//   - the request: what the host asks of a guest run, carried as rig.*
//     and kbus.* arguments on the kernel command line (Request);
//   - the image: where the initramfs keeps the module, the suites and the
//     commands (the *Path and *Dir constants);
//   - the environment the guest gives the suites (Env* constants);
//   - the results: the 9P share the guest writes into and the host reads.
//     The guest writes, in this order, one JUnit and one JSON report per
//     suite under suites/ with the suite's console output beside them,
//     dmesg.txt, the kmemleak scans, and last of all status.json (to a
//     temporary name, then renamed). A share without status.json means the
//     guest never reported.
package guestproto

// Paths in the guest image. Not under /lib/modules: u-root's init loads
// every module found there before the uinit runs, without our parameters.
const (
	ModulePath = "/kbus/kbus.ko"
	SpecsDir   = "/specs" // the compiled suites, NAME.test
	BinDir     = "/bin"   // the uinit and our commands
	UinitPath  = "/bin/uinit"
	// UdevadmPath is where a distribution run's image carries the
	// distribution's udevadm, which is also its udev daemon.
	UdevadmPath  = "/usr/bin/udevadm"
	BenchPath    = "/bin/kbusbench"
	ResultsMount = "/results" // where the guest mounts the share
	// ResultsLabel is the volume label of a board image's results
	// partition (rig/image), which replaces the share there.
	ResultsLabel = "KBUSRESULTS"
	SuiteSuffix  = ".test"
	// APIExamples is the kbus package's test binary, in BinDir: specs/api
	// runs the package's examples that need a device with it.
	APIExamples = "kbus.test"
	// CClient is clients/c/kbus_client.c built for the target, in BinDir;
	// CBench the raw-ABI benchmark, clients/c/kbus_bench.c.
	CClient = "kbus-client"
	CBench  = "kbus-bench"
	// CFlood floods KBUS from inside a memory cgroup for the
	// memory-pressure specs, clients/c/kbus_flood.c.
	CFlood = "kbus-flood"
	// PeersDir holds the benchmark's peers in a bench image
	// (docs/benchmark.md, "Peers"): the programs of clients/c/peers, the
	// distribution's dbus-daemon and the bus configuration it is given;
	// the shared libraries they load are where the loader looks.
	PeersDir   = "/peers"
	DBusBench  = "dbus-bench"
	ZMQBench   = "zmq-bench"
	DBusDaemon = "dbus-daemon"
	DBusConfig = "dbus-bench.conf"
)

// The environment the guest gives every suite, beyond its own.
const (
	// EnvPeer is the other guest's address in a two-machine run.
	EnvPeer = "KBUS_RIG_PEER"
	// EnvMemberGID is the group a suite run as a member of it (not as
	// root) belongs to, for the specs that check it.
	EnvMemberGID = "KBUS_RIG_MEMBER_GID"
)

// Command limpet joins a local KBUS device to a peer Limpet over TCP or a
// Unix socket, proxying announcements, requests, replies and replier
// bindings. It reconnects with backoff when the link drops.
//
//	limpet --id 1 --listen :5000 --key-file K      (server)
//	limpet --id 2 --connect host:5000 --key-file K (client)
//
// Addresses starting with unix: are Unix-domain socket paths.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/limpet"
)

func main() {
	def, err := kbus.DefaultDevice()
	if err != nil {
		fmt.Fprintln(os.Stderr, "limpet:", err)
		os.Exit(2)
	}
	dev := flag.Int("device", def, "local KBUS device number (default $"+kbus.DeviceEnv+", else 0)")
	id := flag.Uint("id", 0, "this Limpet's network id (non-zero, unique)")
	listen := flag.String("listen", "", "serve on this address (host:port or unix:PATH)")
	connect := flag.String("connect", "", "connect to the peer at this address")
	forward := flag.String("forward", "$.*", "names to proxy")
	keyFile := flag.String("key-file", "", "file holding the pre-shared key")
	once := flag.Bool("once", false, "do not reconnect: exit when the link drops")
	flag.Parse()
	log.SetFlags(log.Ltime | log.Lmicroseconds)
	if *id == 0 || (*listen == "") == (*connect == "") || *keyFile == "" {
		fmt.Fprintln(os.Stderr, "limpet: need --id, --key-file and one of --listen or --connect")
		flag.Usage()
		os.Exit(2)
	}
	key, err := os.ReadFile(*keyFile)
	if err != nil {
		log.Fatalf("limpet: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	d := &limpet.Daemon{
		Config: limpet.Config{NetworkID: uint32(*id), Forward: *forward, Key: key, Logf: log.Printf},
		Device: *dev,
		Once:   *once,
	}
	if *listen != "" {
		network, addr := split(*listen)
		if network == "unix" {
			os.Remove(addr)
		}
		ln, err := net.Listen(network, addr)
		if err != nil {
			log.Fatalf("limpet: %v", err)
		}
		defer ln.Close()
		go func() { <-ctx.Done(); ln.Close() }()
		log.Printf("limpet %d: listening on %s", *id, ln.Addr())
		d.Next = func(context.Context) (net.Conn, error) { return ln.Accept() }
	} else {
		network, addr := split(*connect)
		var dialer net.Dialer
		d.Next = func(ctx context.Context) (net.Conn, error) { return dialer.DialContext(ctx, network, addr) }
	}
	if err := d.Run(ctx); err != nil {
		log.Printf("limpet %d: %v", *id, err)
		os.Exit(1)
	}
}

// split reads an address: unix:PATH or host:port.
func split(addr string) (network, address string) {
	if p, ok := strings.CutPrefix(addr, "unix:"); ok {
		return "unix", p
	}
	return "tcp", addr
}

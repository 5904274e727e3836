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
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/limpet"
)

func main() {
	dev := flag.Int("device", 0, "local KBUS device number")
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
	cfg := limpet.Config{NetworkID: uint32(*id), Forward: *forward, Key: key, Logf: log.Printf}

	var ln net.Listener
	if *listen != "" {
		network, addr := split(*listen)
		if network == "unix" {
			os.Remove(addr)
		}
		if ln, err = net.Listen(network, addr); err != nil {
			log.Fatalf("limpet: %v", err)
		}
		defer ln.Close()
		go func() { <-ctx.Done(); ln.Close() }()
		log.Printf("limpet %d: listening on %s", *id, *listen)
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		conn, err := link(ctx, ln, *connect)
		if err == nil {
			start := time.Now()
			err = serve(ctx, *dev, conn, cfg)
			if time.Since(start) > 10*time.Second {
				backoff = 100 * time.Millisecond
			}
		}
		if ctx.Err() != nil {
			return
		}
		log.Printf("limpet %d: link down: %v", *id, err)
		if *once {
			os.Exit(1)
		}
		time.Sleep(backoff)
		backoff = min(2*backoff, 10*time.Second)
	}
}

func split(addr string) (network, address string) {
	if p, ok := strings.CutPrefix(addr, "unix:"); ok {
		return "unix", p
	}
	return "tcp", addr
}

func link(ctx context.Context, ln net.Listener, connect string) (net.Conn, error) {
	if ln != nil {
		return ln.Accept()
	}
	network, addr := split(connect)
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// serve runs one link on a fresh Ksock; closing it afterwards is what
// makes KBUS answer every request the link still owed.
func serve(ctx context.Context, dev int, conn net.Conn, cfg limpet.Config) error {
	ks, err := kbus.Open(dev, kbus.ReadWrite)
	if err != nil {
		conn.Close()
		return err
	}
	err = limpet.Run(ctx, ks, conn, cfg)
	ks.Close()
	if errors.Is(err, limpet.ErrAuth) {
		log.Printf("limpet %d: refused a peer that failed authentication", cfg.NetworkID)
	}
	return err
}

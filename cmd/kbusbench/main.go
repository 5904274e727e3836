// Command kbusbench measures KBUS on a freshly loaded module and prints
// every figure with the AF_UNIX socketpair and POSIX message queue floors.
// The rig runs it in the guest for "make bench".
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/kbus-project/kbus/kbus/bench"
)

func main() {
	dev := flag.Int("device", 0, "KBUS device number")
	repeats := flag.Int("repeats", 5, "runs per figure")
	n := flag.Int("n", 20000, "messages per throughput run")
	flag.Parse()
	if err := bench.Run(context.Background(), os.Stdout, bench.Config{Device: *dev, Repeats: *repeats, N: *n}); err != nil {
		fmt.Fprintln(os.Stderr, "kbusbench:", err)
		os.Exit(1)
	}
}

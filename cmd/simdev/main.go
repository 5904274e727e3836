// Command simdev runs one simulated device as its own process on a KBUS
// bus, so that a crash is a real process death and a restart a new Ksock:
//
//	simdev tuner|recorder|drm|ui|remote [flags]      the set-top box
//	simdev sensor|actuator|plc|interlock|historian   the plant
//
// Every device takes --bus, --log, --latency, --crash-after, --stall,
// --refuse and --ready; it stops cleanly on SIGTERM or SIGINT.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kbus-project/kbus/kbus"
	"github.com/kbus-project/kbus/sim/device"
	"github.com/kbus-project/kbus/sim/plant"
	"github.com/kbus-project/kbus/sim/stb"
)

type runner func(ctx context.Context, d *device.Device) error

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: simdev DEVICE [flags]; devices: tuner recorder drm ui remote sensor actuator plc interlock historian")
		os.Exit(2)
	}
	name := os.Args[1]
	if _, err := kbus.DefaultDevice(); err != nil {
		fmt.Fprintln(os.Stderr, "simdev:", err)
		os.Exit(2)
	}
	fs := flag.NewFlagSet("simdev "+name, flag.ExitOnError)
	var cfg device.Config
	cfg.Flags(fs)
	run := deviceFlags(name, fs)
	if run == nil {
		fmt.Fprintf(os.Stderr, "simdev: unknown device %q\n", name)
		os.Exit(2)
	}
	fs.Parse(os.Args[2:])

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	d, err := device.Open(name, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "simdev:", err)
		os.Exit(1)
	}
	err = run(ctx, d)
	d.Record("stopped")
	d.Close()
	if err != nil {
		fmt.Fprintf(os.Stderr, "simdev %s: %v\n", name, err)
		os.Exit(1)
	}
}

// deviceFlags registers a device's own flags and returns how to run it.
func deviceFlags(name string, fs *flag.FlagSet) runner {
	switch name {
	case "tuner":
		channels := fs.Int("channels", 99, "channels 1…N exist")
		level := fs.Int("volume", 50, "initial volume")
		return func(ctx context.Context, d *device.Device) error { return stb.RunTuner(ctx, d, *channels, *level) }
	case "recorder":
		capacity := fs.Int("capacity", 10, "recordings the disk holds")
		return func(ctx context.Context, d *device.Device) error { return stb.RunRecorder(ctx, d, *capacity) }
	case "drm":
		entitled := fs.String("entitled", "1,2,3", "channels that may be played, comma-separated")
		return func(ctx context.Context, d *device.Device) error {
			return stb.RunDRM(ctx, d, ints(*entitled))
		}
	case "ui":
		return func(ctx context.Context, d *device.Device) error { return stb.RunUI(ctx, d) }
	case "remote":
		keys := fs.String("keys", "", "keys to press, comma-separated")
		interval := fs.Duration("interval", 100*time.Millisecond, "time between key presses")
		return func(ctx context.Context, d *device.Device) error {
			return stb.RunRemote(ctx, d, strings.Split(*keys, ","), *interval)
		}
	case "sensor":
		kind := fs.String("kind", "Temperature", "what it measures")
		id := fs.String("id", "T1", "its id")
		base := fs.Float64("base", 60, "the value it reads around")
		noise := fs.Float64("noise", 1, "noise amplitude")
		period := fs.Duration("period", 100*time.Millisecond, "time between readings")
		return func(ctx context.Context, d *device.Device) error {
			return plant.RunSensor(ctx, d, *kind, *id, *base, *noise, *period)
		}
	case "actuator":
		id := fs.String("id", "V1", "its id")
		safe := fs.Int("safe", 0, "its safe position")
		perUnit := fs.Duration("travel", time.Millisecond, "travel time per unit of position")
		return func(ctx context.Context, d *device.Device) error {
			return plant.RunActuator(ctx, d, *id, *safe, *perUnit)
		}
	case "plc":
		temp := fs.String("temperature", "T1", "temperature sensor id")
		valve := fs.String("valve", "V1", "cooling valve id")
		setPoint := fs.Float64("set-point", 60, "temperature set point")
		gain := fs.Float64("gain", 5, "valve % per degree above the set point")
		return func(ctx context.Context, d *device.Device) error {
			return plant.RunPLC(ctx, d, *temp, *valve, plant.Controller{SetPoint: *setPoint, Gain: *gain})
		}
	case "interlock":
		kind := fs.String("kind", "Temperature", "sensor kind")
		id := fs.String("id", "T1", "sensor id")
		limit := fs.Float64("limit", 90, "trip at this reading")
		return func(ctx context.Context, d *device.Device) error {
			return plant.RunInterlock(ctx, d, *kind, *id, *limit)
		}
	case "historian":
		return func(ctx context.Context, d *device.Device) error { return plant.RunHistorian(ctx, d) }
	}
	return nil
}

func ints(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil {
			out = append(out, n)
		}
	}
	return out
}

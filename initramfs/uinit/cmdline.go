package main

import (
	"strings"
	"time"
)

// config is what the kernel command line asks of this run.
type config struct {
	mode         string
	timeout      time.Duration
	labels       string
	fault        string
	moduleParams string
	// ip is this guest's address on the link to another guest
	// (ADDR/PREFIX), peer the other guest's address; both empty when the
	// guest runs alone.
	ip, peer string
}

// parseCmdline reads the rig.* and kbus.* arguments of a kernel command line.
// Double-quoted values may contain spaces (rig.labels="stb || industrial").
func parseCmdline(line string) config {
	cfg := config{mode: "test", timeout: 10 * time.Minute}
	var params []string
	for _, arg := range splitArgs(line) {
		key, val, ok := strings.Cut(arg, "=")
		if !ok {
			continue
		}
		switch {
		case key == "rig.mode":
			cfg.mode = val
		case key == "rig.timeout":
			if d, err := time.ParseDuration(val); err == nil && d > 0 {
				cfg.timeout = d
			}
		case key == "rig.labels":
			cfg.labels = val
		case key == "rig.fault":
			cfg.fault = val
		case key == "rig.ip":
			cfg.ip = val
		case key == "rig.peer":
			cfg.peer = val
		case strings.HasPrefix(key, "kbus."):
			params = append(params, strings.TrimPrefix(key, "kbus.")+"="+val)
		}
	}
	cfg.moduleParams = strings.Join(params, " ")
	return cfg
}

// splitArgs splits a command line on spaces, keeping double-quoted runs
// together and dropping the quotes, as the kernel does.
func splitArgs(line string) []string {
	var args []string
	var cur strings.Builder
	inQuote, have := false, false
	for _, r := range strings.TrimSpace(line) {
		switch {
		case r == '"':
			inQuote = !inQuote
			have = true
		case (r == ' ' || r == '\n' || r == '\t') && !inQuote:
			if have {
				args = append(args, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteRune(r)
			have = true
		}
	}
	if have {
		args = append(args, cur.String())
	}
	return args
}

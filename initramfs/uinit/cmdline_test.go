package main

import (
	"testing"
	"time"
)

func TestParseCmdline(t *testing.T) {
	cfg := parseCmdline(`console=ttyS0 panic=-1 rig.timeout=90s rig.labels="stb || industrial" ` +
		`kbus.kbus_num_devices=3 kbus.kbus_dev_mode=0660 rig.fault=hang VMTEST_MOUNT9P_fsdev0=results ` +
		`rig.ip=10.0.2.1/24 rig.peer=10.0.2.2` + "\n")
	if cfg.mode != "test" {
		t.Errorf("mode = %q, want test", cfg.mode)
	}
	if cfg.timeout != 90*time.Second {
		t.Errorf("timeout = %v, want 90s", cfg.timeout)
	}
	if cfg.labels != "stb || industrial" {
		t.Errorf("labels = %q", cfg.labels)
	}
	if cfg.fault != "hang" {
		t.Errorf("fault = %q", cfg.fault)
	}
	if cfg.ip != "10.0.2.1/24" || cfg.peer != "10.0.2.2" {
		t.Errorf("ip, peer = %q, %q", cfg.ip, cfg.peer)
	}
	if want := "kbus_num_devices=3 kbus_dev_mode=0660"; cfg.moduleParams != want {
		t.Errorf("module params = %q, want %q", cfg.moduleParams, want)
	}
}

func TestParseCmdlineDefaults(t *testing.T) {
	cfg := parseCmdline("console=ttyS0 rig.timeout=bogus")
	if cfg.timeout != 10*time.Minute || cfg.mode != "test" || cfg.moduleParams != "" || cfg.ip != "" {
		t.Errorf("unexpected defaults: %+v", cfg)
	}
}

package main

import (
	"fmt"
	"log"
	"net"
	"time"

	"github.com/vishvananda/netlink"
)

// configureNetwork brings up the loopback interface and, when the command
// line gives rig.ip=ADDR/PREFIX, the guest's network interface with that
// address: the link to the other guest of a two-machine run.
func configureNetwork(cidr string) error {
	lo, err := netlink.LinkByName("lo")
	if err == nil {
		err = netlink.LinkSetUp(lo)
	}
	if err != nil {
		log.Printf("loopback: %v", err)
	}
	if cidr == "" {
		return nil
	}
	addr, err := netlink.ParseAddr(cidr)
	if err != nil {
		return fmt.Errorf("rig.ip=%s: %w", cidr, err)
	}
	nic, err := firstNIC(10 * time.Second)
	if err != nil {
		return err
	}
	if err := netlink.AddrAdd(nic, addr); err != nil {
		return fmt.Errorf("adding %s to %s: %w", cidr, nic.Attrs().Name, err)
	}
	if err := netlink.LinkSetUp(nic); err != nil {
		return fmt.Errorf("bringing up %s: %w", nic.Attrs().Name, err)
	}
	log.Printf("network: %s on %s (%s)", cidr, nic.Attrs().Name, nic.Attrs().HardwareAddr)
	return nil
}

// firstNIC returns the first interface that is not the loopback, waiting a
// little for its driver to probe.
func firstNIC(wait time.Duration) (netlink.Link, error) {
	deadline := time.Now().Add(wait)
	for {
		links, err := netlink.LinkList()
		if err != nil {
			return nil, fmt.Errorf("listing network interfaces: %w", err)
		}
		for _, l := range links {
			if l.Attrs().Flags&net.FlagLoopback == 0 && l.Type() == "device" {
				return l, nil
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("rig.ip given but the guest has no network interface after %v", wait)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

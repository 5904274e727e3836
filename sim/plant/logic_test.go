package plant

import (
	"math/rand"
	"testing"
	"time"
)

func TestNoiseStaysWithinItsAmplitude(t *testing.T) {
	n := &Noise{Base: 70, Amplitude: 2, Rand: rand.New(rand.NewSource(1))}
	for i := 0; i < 1000; i++ {
		if v := n.Next(); v < 68 || v > 72 {
			t.Fatalf("reading %v outside 70±2", v)
		}
	}
}

func TestActuatorTravelTime(t *testing.T) {
	a := &Actuator{Position: 20, PerUnit: time.Millisecond}
	target, d, err := a.Command("50")
	if err != nil || target != 50 || d != 30*time.Millisecond {
		t.Errorf("%d %v %v", target, d, err)
	}
	if _, _, err := a.Command("150"); err == nil {
		t.Error("150 accepted")
	}
}

func TestControllerAndInterlock(t *testing.T) {
	c := Controller{SetPoint: 60, Gain: 5}
	if c.Valve(50) != 0 || c.Valve(70) != 50 || c.Valve(100) != 100 {
		t.Errorf("valve %d %d %d", c.Valve(50), c.Valve(70), c.Valve(100))
	}
	i := &Interlock{Limit: 90}
	if i.Observe(89) || !i.Observe(90) || i.Observe(95) {
		t.Error("the interlock trips exactly once, at the limit")
	}
}

func TestNames(t *testing.T) {
	if Sensor("Temperature", "T1") != "$.Plant.Sensor.Temperature.T1" || Set("V1") != "$.Plant.Actuator.V1.Set" {
		t.Error("names")
	}
}

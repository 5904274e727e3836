package plant

import (
	"fmt"
	"math/rand"
	"strconv"
	"strings"
	"time"
)

// Noise is a sensor's reading: a base value with bounded random noise.
type Noise struct {
	Base, Amplitude float64
	Rand            *rand.Rand
}

// Next returns the next reading.
func (n *Noise) Next() float64 {
	return n.Base + (n.Rand.Float64()*2-1)*n.Amplitude
}

// Actuator is a valve or pump with a travel time per unit of position.
type Actuator struct {
	Position int // 0…100
	Safe     int // where a shutdown sends it
	PerUnit  time.Duration
}

// Command parses a target position and returns how long the move takes.
func (a *Actuator) Command(data string) (target int, travel time.Duration, err error) {
	target, err = strconv.Atoi(strings.TrimSpace(data))
	if err != nil || target < 0 || target > 100 {
		return 0, 0, fmt.Errorf("error: position %q is not 0…100", data)
	}
	d := target - a.Position
	if d < 0 {
		d = -d
	}
	return target, time.Duration(d) * a.PerUnit, nil
}

// Controller is the PLC's control law: a proportional controller that
// opens the cooling valve as temperature rises above the set point.
type Controller struct {
	SetPoint float64
	Gain     float64
}

// Valve returns the valve position for a temperature reading.
func (c Controller) Valve(temp float64) int {
	v := (temp - c.SetPoint) * c.Gain
	return int(min(max(v, 0), 100))
}

// Interlock trips once a reading reaches the limit.
type Interlock struct {
	Limit   float64
	Tripped bool
}

// Observe returns true the first time the reading reaches the limit.
func (i *Interlock) Observe(v float64) bool {
	if i.Tripped || v < i.Limit {
		return false
	}
	i.Tripped = true
	return true
}

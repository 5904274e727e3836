// Package plant simulates industrial control as KBUS participants:
// sensors, valves and pumps, a PLC closing the control loop, a safety
// interlock and a historian. Every message they exchange is named here.
package plant

// Message names of the plant, all under $.Plant.
const (
	// Sensor readings are announced as $.Plant.Sensor.<Kind>.<ID>, data
	// "<value>" (e.g. $.Plant.Sensor.Temperature.T1, "71.3").
	SensorPrefix = "$.Plant.Sensor."
	SensorAll    = "$.Plant.Sensor.*"

	// Actuator commands are requests $.Plant.Actuator.<ID>.Set with data
	// the target position 0…100; the reply is "at N" once it got there (after
	// its travel time) or "error: …". Position is announced as
	// $.Plant.Actuator.<ID>.Position.
	ActuatorPrefix = "$.Plant.Actuator."

	// Shutdown is announced URGENT by the interlock; every actuator moves
	// to its safe position at once. Data is the reason.
	Shutdown = "$.Plant.Safety.Shutdown"
	// SafeState is announced by the PLC once the plant is safe.
	SafeState = "$.Plant.Safety.Safe"

	// All is what the historian records.
	All = "$.Plant.*"
)

// Sensor returns the name a sensor announces on.
func Sensor(kind, id string) string { return SensorPrefix + kind + "." + id }

// Set returns the request name that commands actuator id.
func Set(id string) string { return ActuatorPrefix + id + ".Set" }

// Position returns the name actuator id announces its position on.
func Position(id string) string { return ActuatorPrefix + id + ".Position" }

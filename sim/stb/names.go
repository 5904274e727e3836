// Package stb simulates a set-top box as KBUS participants: a remote
// control, the on-screen display (UI), a tuner, a recorder and a DRM
// service. Every message they exchange is named here.
package stb

// Message names of the set-top box, all under $.STB.
const (
	// KeyPress is announced by the remote; data is the key: CH+, CH-, 0…9,
	// VOL+, VOL-, MUTE, PLAY, PAUSE, REW, REC.
	KeyPress = "$.STB.Remote.Key"

	// Tune asks the tuner (replier) for a channel; data is its number. The
	// reply is "locked N" or "error: …"; Locked is then announced.
	Tune = "$.STB.Tuner.Tune"
	// Locked is announced by the tuner when it holds a channel; data N.
	Locked = "$.STB.Tuner.Locked"
	// Volume asks the tuner to change the volume: "+", "-" or "mute".
	// The reply is the new level "N" or "muted"; VolumeChanged follows.
	Volume = "$.STB.Tuner.Volume"
	// VolumeChanged is announced to every listener; data as Volume's reply.
	VolumeChanged = "$.STB.Audio.Volume"

	// Recorder requests (one replier binds RecorderAll): data is free.
	// Replies are the recorder's new state, or "error: disk full".
	RecorderPlay   = "$.STB.Recorder.Play"
	RecorderPause  = "$.STB.Recorder.Pause"
	RecorderRewind = "$.STB.Recorder.Rewind"
	RecorderRecord = "$.STB.Recorder.Record"
	RecorderAll    = "$.STB.Recorder.%"
	// RecorderState is announced on every change; data is the state.
	RecorderState = "$.STB.Recorder.State"

	// DRMOpen asks a DRM instance for a session; the reply is "session N".
	// Later DRMCheck requests are stateful: addressed to that instance.
	DRMOpen = "$.STB.DRM.Open"
	// DRMCheck asks whether a channel may be played: "ok" or "denied".
	DRMCheck = "$.STB.DRM.Check"
	// DRMAll is what a DRM instance binds to as replier.
	DRMAll = "$.STB.DRM.%"

	// Show is announced by the UI with what the screen now shows.
	Show = "$.STB.UI.Show"
)

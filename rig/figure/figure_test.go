package figure

import (
	"encoding/json"
	"testing"
)

func TestARecordedFigureDecodes(t *testing.T) {
	in := NewSeries("soak throughput", "req/s", []float64{0, 1, 2}, []float64{300, 320, 310})
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out, ok := Decode(string(b))
	if !ok || out.Name != in.Name || len(out.X) != 3 || out.Median() != 310 {
		t.Errorf("decoded %+v, %v", out, ok)
	}
	for _, other := range []string{`"12ms"`, `{"name":"x"}`, `{"figure":"someone else's"}`, `not json kbus-rig/v1`} {
		if _, ok := Decode(other); ok {
			t.Errorf("%s decoded as a figure", other)
		}
	}
}

func TestMedian(t *testing.T) {
	if Median(nil) != 0 || Median([]float64{3, 1, 2}) != 2 || Median([]float64{4, 1, 3, 2}) != 2.5 {
		t.Error("median")
	}
	bars := NewBars("b", "msg/s", []Bar{{Median: 1}, {Median: 5}, {Median: 3}})
	if bars.Median() != 3 || bars.String() != "b: 3 bars (msg/s)" {
		t.Errorf("%v %q", bars.Median(), bars.String())
	}
}

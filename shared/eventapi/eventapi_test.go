package eventapi_test

import (
	"encoding/json"
	"testing"

	"github.com/pecplatform/pec/shared/app"
	"github.com/pecplatform/pec/shared/eventapi"
)

// The INI-PEC run's answer is the daily delta's result or the export's delivery, as each
// encodes alone: the other, nil, adds nothing.
func TestINIPECSyncOutput_EncodesAsTheResultItHolds(t *testing.T) {
	for _, tc := range []struct {
		out  eventapi.INIPECSyncOutput
		want string
	}{
		{eventapi.INIPECSyncOutput{SyncResult: &app.SyncResult{Delivered: []*app.Delivery{}, Unchanged: 2}}, `{"delivered":[],"unchanged":2}`},
		{eventapi.INIPECSyncOutput{Delivery: &app.Delivery{OrderID: "TO", N: 7, FileName: "f.csv", State: app.DeliveryDelivered, Kind: "full"}}, ""},
	} {
		b, err := json.Marshal(tc.out)
		if err != nil {
			t.Fatal(err)
		}
		want := tc.want
		if want == "" {
			w, _ := json.Marshal(tc.out.Delivery)
			want = string(w)
		}
		if string(b) != want {
			t.Errorf("encoded %s, want %s", b, want)
		}
	}
}

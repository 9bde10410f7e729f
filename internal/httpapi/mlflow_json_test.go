package httpapi

import (
	"encoding/json"
	"math"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/tracking"
)

// TestFastJSONMatchesEncodingJSON checks the hand-written encoder against
// encoding/json on runs with every field, odd strings and special floats.
func TestFastJSONMatchesEncodingJSON(t *testing.T) {
	runs := []tracking.Run{
		{Info: tracking.RunInfo{RunID: "a", RunUUID: "a", ExperimentID: "0", Status: "RUNNING", LifecycleStage: "active"}},
		{
			Info: tracking.RunInfo{RunID: "b", RunUUID: "b", RunName: "n\"q\\\n\t\x01é\u2028<>&", ExperimentID: "1", UserID: "u", Status: "FINISHED",
				StartTime: 5, EndTime: 9, ArtifactURI: "mlflow-artifacts:/1/b/artifacts", LifecycleStage: "deleted"},
			Data: tracking.RunData{
				Metrics: []tracking.Metric{{Key: "m", Value: tracking.Value(math.NaN()), Timestamp: 1, Step: 2}, {Key: "i", Value: tracking.Value(math.Inf(-1))},
					{Key: "x", Value: 1e-300, ModelID: "m-1", DatasetName: "d", DatasetDigest: "g"}, {Key: "z", Value: 0.1}},
				Params: []tracking.Param{{Key: "p", Value: "v"}},
				Tags:   []tracking.Tag{{Key: "t", Value: "bad\xffutf8"}},
			},
			Inputs: tracking.RunInputs{DatasetInputs: []tracking.DatasetInput{{Tags: []tracking.Tag{{Key: "c", Value: "training"}},
				Dataset: tracking.Dataset{Name: "ds", Digest: "dg", SourceType: "delta", Source: `{"a":1}`, Schema: "s"}}},
				ModelInputs: []tracking.ModelInput{{ModelID: "m-2"}}},
			Outputs: &tracking.RunOutputs{ModelOutputs: []tracking.ModelOutput{{ModelID: "m-3", Step: 4}}},
		},
	}
	rec := httptest.NewRecorder()
	require.NoError(t, writeRuns(rec, runs, "tok"))
	var got, want any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
	b, err := json.Marshal(struct {
		Runs []tracking.Run `json:"runs"`
		Next string         `json:"next_page_token"`
	}{runs, "tok"})
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &want))
	require.Equal(t, want, got)

	rec = httptest.NewRecorder()
	require.NoError(t, writeMetrics(rec, runs[1].Data.Metrics, ""))
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
	b, _ = json.Marshal(map[string]any{"metrics": runs[1].Data.Metrics})
	require.NoError(t, json.Unmarshal(b, &want))
	require.Equal(t, want, got)
}

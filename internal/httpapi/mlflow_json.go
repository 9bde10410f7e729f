package httpapi

import (
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/lakebox/lakebox/internal/tracking"
)

// A hand-written encoder for the large MLflow responses (runs, metric
// histories): encoding/json calls Value.MarshalJSON and re-validates its
// output for every metric, which dominated search and history latency. The
// output is the same proto3 JSON (fields omitted when empty).

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

type jsonObj struct {
	b     []byte
	first bool
}

func (o *jsonObj) key(k string) {
	if !o.first {
		o.b = append(o.b, ',')
	}
	o.first = false
	o.b = append(o.b, '"')
	o.b = append(o.b, k...)
	o.b = append(o.b, '"', ':')
}

func (o *jsonObj) str(k, v string) {
	if v != "" {
		o.key(k)
		o.b = appendString(o.b, v)
	}
}

func (o *jsonObj) strAlways(k, v string) {
	o.key(k)
	o.b = appendString(o.b, v)
}

func (o *jsonObj) int(k string, v int64, always bool) {
	if v != 0 || always {
		o.key(k)
		o.b = strconv.AppendInt(o.b, v, 10)
	}
}

func appendMetric(b []byte, m *tracking.Metric) []byte {
	o := jsonObj{b: append(b, '{'), first: true}
	o.strAlways("key", m.Key)
	o.key("value")
	o.b = m.Value.AppendJSON(o.b)
	o.int("timestamp", m.Timestamp, true)
	o.int("step", m.Step, true)
	o.str("run_id", m.RunID)
	o.str("model_id", m.ModelID)
	o.str("dataset_name", m.DatasetName)
	o.str("dataset_digest", m.DatasetDigest)
	return append(o.b, '}')
}

func appendMetrics(b []byte, ms []tracking.Metric) []byte {
	b = append(b, '[')
	for i := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendMetric(b, &ms[i])
	}
	return append(b, ']')
}

func appendKVs(b []byte, kvs []tracking.Tag) []byte {
	b = append(b, '[')
	for i, t := range kvs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"key":`...)
		b = appendString(b, t.Key)
		b = append(b, `,"value":`...)
		b = appendString(b, t.Value)
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendRunInfo(b []byte, i *tracking.RunInfo) []byte {
	o := jsonObj{b: append(b, '{'), first: true}
	o.strAlways("run_id", i.RunID)
	o.strAlways("run_uuid", i.RunUUID)
	o.str("run_name", i.RunName)
	o.strAlways("experiment_id", i.ExperimentID)
	o.str("user_id", i.UserID)
	o.strAlways("status", i.Status)
	o.int("start_time", i.StartTime, false)
	o.int("end_time", i.EndTime, false)
	o.str("artifact_uri", i.ArtifactURI)
	o.strAlways("lifecycle_stage", i.LifecycleStage)
	return append(o.b, '}')
}

func appendRun(b []byte, r *tracking.Run) []byte {
	b = append(b, `{"info":`...)
	b = appendRunInfo(b, &r.Info)
	o := jsonObj{b: append(b, `,"data":{`...), first: true}
	if len(r.Data.Metrics) > 0 {
		o.key("metrics")
		o.b = appendMetrics(o.b, r.Data.Metrics)
	}
	if len(r.Data.Params) > 0 {
		o.key("params")
		kvs := make([]tracking.Tag, len(r.Data.Params))
		for i, p := range r.Data.Params {
			kvs[i] = tracking.Tag(p)
		}
		o.b = appendKVs(o.b, kvs)
	}
	if len(r.Data.Tags) > 0 {
		o.key("tags")
		o.b = appendKVs(o.b, r.Data.Tags)
	}
	b = append(o.b, `},"inputs":{`...)
	o = jsonObj{b: b, first: true}
	if len(r.Inputs.DatasetInputs) > 0 {
		o.key("dataset_inputs")
		o.b = append(o.b, '[')
		for i, d := range r.Inputs.DatasetInputs {
			if i > 0 {
				o.b = append(o.b, ',')
			}
			do := jsonObj{b: append(o.b, '{'), first: true}
			if len(d.Tags) > 0 {
				do.key("tags")
				do.b = appendKVs(do.b, d.Tags)
			}
			do.key("dataset")
			ds := jsonObj{b: append(do.b, '{'), first: true}
			ds.strAlways("name", d.Dataset.Name)
			ds.strAlways("digest", d.Dataset.Digest)
			ds.strAlways("source_type", d.Dataset.SourceType)
			ds.strAlways("source", d.Dataset.Source)
			ds.str("schema", d.Dataset.Schema)
			ds.str("profile", d.Dataset.Profile)
			o.b = append(append(ds.b, '}'), '}')
		}
		o.b = append(o.b, ']')
	}
	if len(r.Inputs.ModelInputs) > 0 {
		o.key("model_inputs")
		o.b = append(o.b, '[')
		for i, m := range r.Inputs.ModelInputs {
			if i > 0 {
				o.b = append(o.b, ',')
			}
			o.b = append(o.b, `{"model_id":`...)
			o.b = append(appendString(o.b, m.ModelID), '}')
		}
		o.b = append(o.b, ']')
	}
	b = append(o.b, '}')
	if r.Outputs != nil && len(r.Outputs.ModelOutputs) > 0 {
		b = append(b, `,"outputs":{"model_outputs":[`...)
		for i, m := range r.Outputs.ModelOutputs {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"model_id":`...)
			b = appendString(b, m.ModelID)
			b = append(b, `,"step":`...)
			b = strconv.AppendInt(b, m.Step, 10)
			b = append(b, '}')
		}
		b = append(b, ']', '}')
	}
	return append(b, '}')
}

func writeRaw(w http.ResponseWriter, b []byte) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(b)
	return err
}

// writeRuns writes {"runs":[…],"next_page_token":…}.
func writeRuns(w http.ResponseWriter, runs []tracking.Run, next string) error {
	b := make([]byte, 0, 512*len(runs)+64)
	o := jsonObj{b: append(b, '{'), first: true}
	if len(runs) > 0 {
		o.key("runs")
		o.b = append(o.b, '[')
		for i := range runs {
			if i > 0 {
				o.b = append(o.b, ',')
			}
			o.b = appendRun(o.b, &runs[i])
		}
		o.b = append(o.b, ']')
	}
	o.str("next_page_token", next)
	return writeRaw(w, append(o.b, '}', '\n'))
}

// writeRun writes {"run":…}.
func writeRun(w http.ResponseWriter, r *tracking.Run) error {
	b := append(make([]byte, 0, 1024), `{"run":`...)
	return writeRaw(w, append(appendRun(b, r), '}', '\n'))
}

// writeMetrics writes {"metrics":[…],"next_page_token":…}.
func writeMetrics(w http.ResponseWriter, ms []tracking.Metric, next string) error {
	b := make([]byte, 0, 80*len(ms)+64)
	o := jsonObj{b: append(b, '{'), first: true}
	if len(ms) > 0 {
		o.key("metrics")
		o.b = appendMetrics(o.b, ms)
	}
	o.str("next_page_token", next)
	return writeRaw(w, append(o.b, '}', '\n'))
}

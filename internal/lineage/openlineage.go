package lineage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/lakebox/lakebox/internal/errs"
)

// OpenLineage 2-0-2 event model (the parts Lakebox reads; unknown fields and
// facets are accepted and ignored).

// OLEvent is a RunEvent (run set), a JobEvent (job without run) or a
// DatasetEvent (dataset set).
type OLEvent struct {
	EventType string      `json:"eventType,omitempty"`
	EventTime string      `json:"eventTime"`
	Producer  string      `json:"producer"`
	SchemaURL string      `json:"schemaURL"`
	Run       *OLRun      `json:"run,omitempty"`
	Job       *OLJob      `json:"job,omitempty"`
	Inputs    []OLDataset `json:"inputs,omitempty"`
	Outputs   []OLDataset `json:"outputs,omitempty"`
	Dataset   *OLDataset  `json:"dataset,omitempty"`
}

// OLRun is the run of a RunEvent.
type OLRun struct {
	RunID  string                     `json:"runId"`
	Facets map[string]json.RawMessage `json:"facets,omitempty"`
}

// OLJob is the job of an event.
type OLJob struct {
	Namespace string                     `json:"namespace"`
	Name      string                     `json:"name"`
	Facets    map[string]json.RawMessage `json:"facets,omitempty"`
}

// OLDataset is an input or output dataset.
type OLDataset struct {
	Namespace    string                     `json:"namespace"`
	Name         string                     `json:"name"`
	Facets       map[string]json.RawMessage `json:"facets,omitempty"`
	InputFacets  map[string]json.RawMessage `json:"inputFacets,omitempty"`
	OutputFacets map[string]json.RawMessage `json:"outputFacets,omitempty"`
}

// OLColumnLineage is the columnLineage dataset facet.
type OLColumnLineage struct {
	Fields  map[string]OLColumnFields `json:"fields"`
	Dataset []OLInputField            `json:"dataset,omitempty"`
}

// OLColumnFields lists the inputs of one output column.
type OLColumnFields struct {
	InputFields []OLInputField `json:"inputFields"`
}

// OLInputField is one input column.
type OLInputField struct {
	Namespace       string             `json:"namespace"`
	Name            string             `json:"name"`
	Field           string             `json:"field"`
	Transformations []OLTransformation `json:"transformations,omitempty"`
}

// OLTransformation describes how an input field is used.
type OLTransformation struct {
	Type        string `json:"type"`
	Subtype     string `json:"subtype,omitempty"`
	Description string `json:"description,omitempty"`
	Masking     bool   `json:"masking,omitempty"`
}

type olSymlinks struct {
	Identifiers []struct {
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
		Type      string `json:"type"`
	} `json:"identifiers"`
}

var olEventTypes = map[string]bool{"START": true, "RUNNING": true, "COMPLETE": true, "ABORT": true, "FAIL": true, "OTHER": true}

func invalid(field, format string, args ...any) error {
	return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", "%s: %s", field, fmt.Sprintf(format, args...))
}

// ParseOpenLineage decodes and validates one OpenLineage event. Errors:
// errs.Invalid naming the bad field (e.g. "outputs[0].name: required").
func ParseOpenLineage(body []byte) (*OLEvent, error) {
	var ev OLEvent
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&ev); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, invalid(te.Field, "expected %s", te.Type)
		}
		return nil, errs.E(errs.Invalid, "MALFORMED_REQUEST", "request body is not a valid OpenLineage event: %v", err)
	}
	return &ev, ev.Validate()
}

// Validate checks the event against the 2-0-2 spec's required fields.
func (ev *OLEvent) Validate() error {
	if ev.EventTime == "" {
		return invalid("eventTime", "required (ISO-8601 with offset)")
	}
	if _, err := time.Parse(time.RFC3339Nano, ev.EventTime); err != nil {
		return invalid("eventTime", "%q is not an ISO-8601 time with offset", ev.EventTime)
	}
	if ev.Producer == "" {
		return invalid("producer", "required (URI of the emitting code)")
	}
	if u, err := url.Parse(ev.Producer); err != nil || u.Scheme == "" {
		return invalid("producer", "%q is not a URI", ev.Producer)
	}
	if ev.SchemaURL == "" {
		return invalid("schemaURL", "required (e.g. https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent)")
	}
	if ev.EventType != "" && !olEventTypes[ev.EventType] {
		return invalid("eventType", "%q is not one of START, RUNNING, COMPLETE, ABORT, FAIL, OTHER", ev.EventType)
	}
	switch {
	case ev.Run != nil:
		if ev.Run.RunID == "" {
			return invalid("run.runId", "required")
		}
		if _, err := uuid.Parse(ev.Run.RunID); err != nil {
			return invalid("run.runId", "%q is not a UUID", ev.Run.RunID)
		}
		if ev.Job == nil {
			return invalid("job", "required in a RunEvent")
		}
	case ev.Dataset != nil:
		return checkDataset("dataset", ev.Dataset)
	case ev.Job == nil:
		return invalid("run", "required: send a RunEvent (run, job), a JobEvent (job) or a DatasetEvent (dataset)")
	}
	if ev.Job.Namespace == "" {
		return invalid("job.namespace", "required")
	}
	if ev.Job.Name == "" {
		return invalid("job.name", "required")
	}
	for i := range ev.Inputs {
		if err := checkDataset(fmt.Sprintf("inputs[%d]", i), &ev.Inputs[i]); err != nil {
			return err
		}
	}
	for i := range ev.Outputs {
		if err := checkDataset(fmt.Sprintf("outputs[%d]", i), &ev.Outputs[i]); err != nil {
			return err
		}
	}
	return nil
}

func checkDataset(path string, d *OLDataset) error {
	if d.Namespace == "" {
		return invalid(path+".namespace", "required")
	}
	if d.Name == "" {
		return invalid(path+".name", "required")
	}
	if raw, ok := d.Facets["columnLineage"]; ok {
		cl, err := decodeColumnLineage(raw)
		if err != nil {
			return invalid(path+".facets.columnLineage", "%v", err)
		}
		for col, f := range cl.Fields {
			for j, in := range f.InputFields {
				p := fmt.Sprintf("%s.facets.columnLineage.fields.%s.inputFields[%d]", path, col, j)
				switch {
				case in.Namespace == "":
					return invalid(p+".namespace", "required")
				case in.Name == "":
					return invalid(p+".name", "required")
				case in.Field == "":
					return invalid(p+".field", "required")
				}
				for k, t := range in.Transformations {
					if t.Type != "DIRECT" && t.Type != "INDIRECT" {
						return invalid(fmt.Sprintf("%s.transformations[%d].type", p, k), "%q is not DIRECT or INDIRECT", t.Type)
					}
				}
			}
		}
	}
	return nil
}

func decodeColumnLineage(raw json.RawMessage) (*OLColumnLineage, error) {
	var cl OLColumnLineage
	if err := json.Unmarshal(raw, &cl); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, fmt.Errorf("field %s: expected %s", te.Field, te.Type)
		}
		return nil, err
	}
	return &cl, nil
}

var storageSchemes = map[string]bool{"s3": true, "s3a": true, "s3n": true, "gs": true, "abfss": true, "abfs": true, "wasbs": true, "hdfs": true, "file": true, "dbfs": true}

// DatasetNode maps an OpenLineage dataset to a lineage node: a TABLE when
// it names a Lakebox/Unity Catalog table (namespace lakebox[://…] or
// unitycatalog://…, a name "lakebox://cat.schema.table", or a symlinks
// identifier in such a namespace), a PATH for storage namespaces (s3://,
// gs://, abfss://, hdfs://, file://, dbfs://), else EXTERNAL
// "<namespace>/<name>".
func DatasetNode(namespace, name string, facets map[string]json.RawMessage) Node {
	if raw, ok := facets["symlinks"]; ok {
		var sl olSymlinks
		if json.Unmarshal(raw, &sl) == nil {
			for _, id := range sl.Identifiers {
				if isLakeboxNS(id.Namespace) && IsThreeLevel(id.Name) {
					return TableNode(id.Name).Normalize()
				}
			}
		}
	}
	if rest, ok := strings.CutPrefix(name, "lakebox://"); ok && IsThreeLevel(rest) {
		return TableNode(rest).Normalize()
	}
	if isLakeboxNS(namespace) && IsThreeLevel(name) {
		return TableNode(name).Normalize()
	}
	scheme, _, _ := strings.Cut(namespace, "://")
	if storageSchemes[strings.ToLower(scheme)] {
		return Node{Type: Path, Name: strings.TrimSuffix(namespace, "/") + "/" + strings.TrimPrefix(name, "/")}
	}
	return Node{Type: External, Name: namespace + "/" + name}
}

func isLakeboxNS(ns string) bool {
	l := strings.ToLower(ns)
	return l == "lakebox" || l == "unitycatalog" || strings.HasPrefix(l, "lakebox://") || strings.HasPrefix(l, "unitycatalog://")
}

// Edges returns the lineage edges of a validated event: every input feeds
// every output (table level), plus column edges from columnLineage facets.
// FAIL and ABORT events, DatasetEvents and events without outputs add none.
func (ev *OLEvent) Edges() []Edge {
	if ev.EventType == "FAIL" || ev.EventType == "ABORT" || ev.Job == nil || len(ev.Outputs) == 0 {
		return nil
	}
	t, _ := time.Parse(time.RFC3339Nano, ev.EventTime)
	base := Event{Time: t.UTC(), EntityType: "OPENLINEAGE", EntityID: ev.Job.Namespace + "/" + ev.Job.Name,
		Metadata: map[string]string{"producer": ev.Producer, "job_namespace": ev.Job.Namespace, "job_name": ev.Job.Name}}
	if ev.EventType != "" {
		base.Metadata["event_type"] = ev.EventType
	}
	if ev.Run != nil {
		base.EntityRunID = ev.Run.RunID
		base.EventID = ev.Run.RunID + "@" + ev.EventTime
	} else {
		base.EntityType = "OPENLINEAGE_JOB"
	}
	var edges []Edge
	ins := make([]Node, len(ev.Inputs))
	for i, in := range ev.Inputs {
		ins[i] = DatasetNode(in.Namespace, in.Name, in.Facets)
	}
	for _, out := range ev.Outputs {
		target := DatasetNode(out.Namespace, out.Name, out.Facets)
		seen := map[Node]bool{}
		for _, src := range ins {
			if !seen[src] && src != target {
				seen[src] = true
				edges = append(edges, Edge{Source: src, Target: target, Event: base})
			}
		}
		raw, ok := out.Facets["columnLineage"]
		if !ok {
			continue
		}
		cl, err := decodeColumnLineage(raw)
		if err != nil {
			continue
		}
		for col, f := range cl.Fields {
			for _, in := range f.InputFields {
				src := DatasetNode(in.Namespace, in.Name, nil)
				if !seen[src] {
					seen[src] = true
					edges = append(edges, Edge{Source: src, Target: target, Event: base})
				}
				ev := base
				if len(in.Transformations) > 0 {
					ev.Metadata = map[string]string{}
					for k, v := range base.Metadata {
						ev.Metadata[k] = v
					}
					tr := in.Transformations[0]
					ev.Metadata["transformation"] = strings.Trim(tr.Type+"/"+tr.Subtype, "/")
				}
				edges = append(edges, Edge{Source: src, Target: target, SourceColumn: in.Field, TargetColumn: col, Event: ev})
			}
		}
		for _, in := range cl.Dataset {
			src := DatasetNode(in.Namespace, in.Name, nil)
			if !seen[src] {
				seen[src] = true
				edges = append(edges, Edge{Source: src, Target: target, Event: base})
			}
		}
	}
	return edges
}

// RecordOpenLineage stores the edges of a validated event and returns how
// many it carried. Without a Visibility only admins may post; with one, the
// caller must see every Lakebox table the event names. Errors:
// errs.PermissionDenied; those of RecordEdges.
func (s *Service) RecordOpenLineage(ctx context.Context, ev *OLEvent) (int, error) {
	edges := ev.Edges()
	if s.o.Visibility == nil {
		if err := s.CheckRead(ctx, Node{Type: External, Name: "openlineage"}); err != nil {
			return 0, err
		}
	}
	checked := map[Node]bool{}
	for _, e := range edges {
		for _, n := range []Node{e.Source, e.Target} {
			if n.Type == Table && !checked[n] {
				checked[n] = true
				if err := s.CheckRead(ctx, n); err != nil {
					return 0, err
				}
			}
		}
	}
	return len(edges), s.RecordEdges(ctx, edges)
}

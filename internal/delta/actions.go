package delta

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"

	"github.com/lakebox/lakebox/internal/errs"
)

// Action is one line of a Delta log file (a commit, a JSON checkpoint, a log
// compaction file or a V2 checkpoint manifest). Exactly one field is set for
// an action this package understands; lines holding only unknown action types
// parse to an Action with every field nil and are ignored by log replay, as
// the protocol requires for forward compatibility.
type Action struct {
	Add                *Add                `json:"add,omitempty"`
	Remove             *Remove             `json:"remove,omitempty"`
	MetaData           *Metadata           `json:"metaData,omitempty"`
	Protocol           *Protocol           `json:"protocol,omitempty"`
	CommitInfo         *CommitInfo         `json:"commitInfo,omitempty"`
	Txn                *Txn                `json:"txn,omitempty"`
	CDC                *AddCDCFile         `json:"cdc,omitempty"`
	DomainMetadata     *DomainMetadata     `json:"domainMetadata,omitempty"`
	CheckpointMetadata *CheckpointMetadata `json:"checkpointMetadata,omitempty"`
	Sidecar            *Sidecar            `json:"sidecar,omitempty"`
}

// PartitionValues maps a partition column's physical name to its serialized
// value; a nil pointer is a NULL partition value (the JSON null), which is
// distinct from the string "null".
type PartitionValues map[string]*string

// Add is the "add" action: a data file became part of the table.
type Add struct {
	Path                    string                    `json:"path"`
	PartitionValues         PartitionValues           `json:"partitionValues"`
	Size                    int64                     `json:"size"`
	ModificationTime        int64                     `json:"modificationTime"`
	DataChange              bool                      `json:"dataChange"`
	Stats                   string                    `json:"stats,omitempty"`
	Tags                    map[string]string         `json:"tags,omitempty"`
	DeletionVector          *DeletionVectorDescriptor `json:"deletionVector,omitempty"`
	BaseRowID               *int64                    `json:"baseRowId,omitempty"`
	DefaultRowCommitVersion *int64                    `json:"defaultRowCommitVersion,omitempty"`
	ClusteringProvider      string                    `json:"clusteringProvider,omitempty"`
}

// Remove is the "remove" action: a data file (or a data file with a given
// deletion vector) stopped being part of the table. It is kept as a tombstone
// until it expires.
type Remove struct {
	Path                    string                    `json:"path"`
	DeletionTimestamp       *int64                    `json:"deletionTimestamp,omitempty"`
	DataChange              bool                      `json:"dataChange"`
	ExtendedFileMetadata    *bool                     `json:"extendedFileMetadata,omitempty"`
	PartitionValues         PartitionValues           `json:"partitionValues,omitempty"`
	Size                    *int64                    `json:"size,omitempty"`
	Stats                   string                    `json:"stats,omitempty"`
	Tags                    map[string]string         `json:"tags,omitempty"`
	DeletionVector          *DeletionVectorDescriptor `json:"deletionVector,omitempty"`
	BaseRowID               *int64                    `json:"baseRowId,omitempty"`
	DefaultRowCommitVersion *int64                    `json:"defaultRowCommitVersion,omitempty"`
}

// AddCDCFile is the "cdc" action: a file of change data written by a commit.
type AddCDCFile struct {
	Path            string            `json:"path"`
	PartitionValues PartitionValues   `json:"partitionValues"`
	Size            int64             `json:"size"`
	DataChange      bool              `json:"dataChange"`
	Tags            map[string]string `json:"tags,omitempty"`
}

// Format names the data file format of a table ("parquet").
type Format struct {
	Provider string            `json:"provider"`
	Options  map[string]string `json:"options"`
}

// Metadata is the "metaData" action. SchemaString holds the table schema as
// JSON; use Schema to parse it.
type Metadata struct {
	ID               string            `json:"id"`
	Name             *string           `json:"name,omitempty"`
	Description      *string           `json:"description,omitempty"`
	Format           Format            `json:"format"`
	SchemaString     string            `json:"schemaString"`
	PartitionColumns []string          `json:"partitionColumns"`
	Configuration    map[string]string `json:"configuration"`
	CreatedTime      *int64            `json:"createdTime,omitempty"`
}

// Protocol is the "protocol" action. ReaderFeatures is set only with
// MinReaderVersion 3 and WriterFeatures only with MinWriterVersion 7.
type Protocol struct {
	MinReaderVersion int      `json:"minReaderVersion"`
	MinWriterVersion int      `json:"minWriterVersion"`
	ReaderFeatures   []string `json:"readerFeatures,omitempty"`
	WriterFeatures   []string `json:"writerFeatures,omitempty"`
}

// Txn is the "txn" action: the last version an application committed
// (idempotent writes).
type Txn struct {
	AppID       string `json:"appId"`
	Version     int64  `json:"version"`
	LastUpdated *int64 `json:"lastUpdated,omitempty"`
}

// DomainMetadata is the "domainMetadata" action.
type DomainMetadata struct {
	Domain        string `json:"domain"`
	Configuration string `json:"configuration"`
	Removed       bool   `json:"removed"`
}

// CheckpointMetadata is the "checkpointMetadata" action of a V2 checkpoint.
type CheckpointMetadata struct {
	Version int64             `json:"version"`
	Tags    map[string]string `json:"tags,omitempty"`
}

// Sidecar is the "sidecar" action of a V2 checkpoint: a file under
// _delta_log/_sidecars/ holding part of the checkpoint's file actions.
type Sidecar struct {
	Path             string            `json:"path"`
	SizeInBytes      int64             `json:"sizeInBytes"`
	ModificationTime int64             `json:"modificationTime"`
	Tags             map[string]string `json:"tags,omitempty"`
}

// DeletionVectorDescriptor locates the deletion vector of a data file.
// StorageType is "u" (a file next to the table named by a Z85-encoded UUID
// with an optional prefix), "i" (inline, Z85-encoded) or "p" (absolute path).
type DeletionVectorDescriptor struct {
	StorageType    string `json:"storageType"`
	PathOrInlineDv string `json:"pathOrInlineDv"`
	Offset         *int32 `json:"offset,omitempty"`
	SizeInBytes    int32  `json:"sizeInBytes"`
	Cardinality    int64  `json:"cardinality"`
}

// UniqueID identifies the deletion vector for log reconciliation: storage
// type, path or inline data, and offset when present.
func (d *DeletionVectorDescriptor) UniqueID() string {
	if d == nil {
		return ""
	}
	id := d.StorageType + d.PathOrInlineDv
	if d.Offset != nil {
		id += "@" + strconv.FormatInt(int64(*d.Offset), 10)
	}
	return id
}

// CommitInfo is the "commitInfo" action. The fields this package reads are
// typed; everything else is kept verbatim in Other so a rewrite does not lose
// information.
type CommitInfo struct {
	Timestamp         *int64
	InCommitTimestamp *int64
	Operation         string
	EngineInfo        string
	ClientVersion     string
	Other             map[string]json.RawMessage
}

// UnmarshalJSON implements json.Unmarshaler.
func (c *CommitInfo) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*c = CommitInfo{}
	get := func(k string, dst any) error {
		raw, ok := m[k]
		if !ok || string(raw) == "null" {
			return nil
		}
		delete(m, k)
		if err := json.Unmarshal(raw, dst); err != nil {
			return fmt.Errorf("commitInfo.%s: %w", k, err)
		}
		return nil
	}
	for _, kv := range []struct {
		k string
		d any
	}{{"timestamp", &c.Timestamp}, {"inCommitTimestamp", &c.InCommitTimestamp}, {"operation", &c.Operation}, {"engineInfo", &c.EngineInfo}, {"clientVersion", &c.ClientVersion}} {
		if err := get(kv.k, kv.d); err != nil {
			return err
		}
	}
	if len(m) > 0 {
		c.Other = m
	}
	return nil
}

// MarshalJSON implements json.Marshaler; keys are written in sorted order.
func (c CommitInfo) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(c.Other)+5)
	for k, v := range c.Other {
		m[k] = v
	}
	if c.Timestamp != nil {
		m["timestamp"] = *c.Timestamp
	}
	if c.InCommitTimestamp != nil {
		m["inCommitTimestamp"] = *c.InCommitTimestamp
	}
	if c.Operation != "" {
		m["operation"] = c.Operation
	}
	if c.EngineInfo != "" {
		m["engineInfo"] = c.EngineInfo
	}
	if c.ClientVersion != "" {
		m["clientVersion"] = c.ClientVersion
	}
	return json.Marshal(m)
}

// ParseActions reads newline-delimited JSON actions. Blank lines are skipped.
// Errors: errs.Invalid with reason DELTA_CORRUPT_LOG naming the 1-based line
// for malformed JSON or an action of the wrong shape; the caller adds the
// file name.
func ParseActions(r io.Reader) ([]Action, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var out []Action
	line := 0
	for {
		b, err := br.ReadBytes('\n')
		if len(b) > 0 {
			line++
			b = bytes.TrimSpace(b)
			if len(b) > 0 {
				var a Action
				if jerr := json.Unmarshal(b, &a); jerr != nil {
					return nil, errs.Wrap(errs.Invalid, ReasonCorruptLog, jerr, "line %d is not a valid Delta action: %v", line, jerr)
				}
				if verr := a.validate(); verr != nil {
					return nil, errs.E(errs.Invalid, ReasonCorruptLog, "line %d: %v", line, verr)
				}
				out = append(out, a)
			}
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// validate checks the few fields without which replay cannot proceed.
func (a *Action) validate() error {
	switch {
	case a.Add != nil && a.Add.Path == "":
		return fmt.Errorf("add action without path")
	case a.Remove != nil && a.Remove.Path == "":
		return fmt.Errorf("remove action without path")
	case a.CDC != nil && a.CDC.Path == "":
		return fmt.Errorf("cdc action without path")
	case a.Txn != nil && a.Txn.AppID == "":
		return fmt.Errorf("txn action without appId")
	case a.Sidecar != nil && a.Sidecar.Path == "":
		return fmt.Errorf("sidecar action without path")
	case a.DeletionVectorOf() != nil:
		return a.DeletionVectorOf().validate()
	}
	return nil
}

// DeletionVectorOf returns the deletion vector of an add or remove action.
func (a *Action) DeletionVectorOf() *DeletionVectorDescriptor {
	switch {
	case a.Add != nil:
		return a.Add.DeletionVector
	case a.Remove != nil:
		return a.Remove.DeletionVector
	}
	return nil
}

func (d *DeletionVectorDescriptor) validate() error {
	switch d.StorageType {
	case "u", "i", "p":
	default:
		return fmt.Errorf("deletion vector storageType %q is not one of u, i, p", d.StorageType)
	}
	if d.SizeInBytes < 0 || d.Cardinality < 0 {
		return fmt.Errorf("deletion vector has negative size or cardinality")
	}
	return nil
}

// MarshalActions writes actions as newline-delimited JSON, one per line,
// the format of a commit file.
func MarshalActions(actions []Action) ([]byte, error) {
	var buf bytes.Buffer
	for i := range actions {
		b, err := json.Marshal(&actions[i])
		if err != nil {
			return nil, err
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	return buf.Bytes(), nil
}

// SupportsReaderFeature reports whether the protocol lists feature as a
// reader feature.
func (p *Protocol) SupportsReaderFeature(feature string) bool {
	for _, f := range p.ReaderFeatures {
		if f == feature {
			return true
		}
	}
	return false
}

// SupportsWriterFeature reports whether the protocol lists feature as a
// writer feature.
func (p *Protocol) SupportsWriterFeature(feature string) bool {
	for _, f := range p.WriterFeatures {
		if f == feature {
			return true
		}
	}
	return false
}

// sortedKeys returns the keys of m in ascending order.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

package delta

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/lakebox/lakebox/internal/blob"
	"github.com/lakebox/lakebox/internal/errs"
)

// Operation names a commit for commitInfo: Name is Spark's operation name
// ("WRITE", "DELETE", "UPDATE", "MERGE", "OPTIMIZE", "RESTORE", "CREATE
// TABLE", ...); Parameters become operationParameters (values rendered as
// strings, as Spark does); Metrics are merged over the metrics computed from
// the actions (numFiles, numOutputRows, numOutputBytes, ...).
type Operation struct {
	Name       string
	Parameters map[string]any
	Metrics    map[string]int64
}

// CommitResult describes a successful commit.
type CommitResult struct {
	// Version is the committed version.
	Version int64
	// Attempts is how many versions were tried (1 = no lost race).
	Attempts int
	// Checkpoint is true when a checkpoint was written after the commit.
	Checkpoint bool
}

// Commit writes the staged actions as the next version with a put-if-absent
// of _delta_log/<version>.json. When a concurrent writer won that version,
// the winning commits are checked against what this transaction read
// (conflict.go); without a conflict the transaction is rebased and retried,
// up to MaxAttempts. After the commit a checkpoint is written every
// delta.checkpointInterval versions (default 10); its failure does not fail
// the commit. Errors: errs.Conflict with DELTA_CONCURRENT_* /
// DELTA_METADATA_CHANGED / DELTA_PROTOCOL_CHANGED naming the versions;
// errs.FailedPrecondition (transaction closed, append-only table); storage
// errors.
func (t *Transaction) Commit(ctx context.Context, op Operation) (CommitResult, error) {
	if err := t.checkOpen(); err != nil {
		return CommitResult{}, err
	}
	if err := t.validateActions(); err != nil {
		return CommitResult{}, err
	}
	version := t.ReadVersion() + 1
	var lastICT int64 = -1
	if t.snap != nil {
		if ci := t.snap.LatestCommitInfo(); ci != nil && ci.InCommitTimestamp != nil {
			lastICT = *ci.InCommitTimestamp
		}
	}
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return CommitResult{}, err
		}
		data, err := t.encode(op, version, lastICT)
		if err != nil {
			return CommitResult{}, err
		}
		key := t.table.logPrefix() + fmt.Sprintf("%020d.json", version)
		err = t.table.bucket.Put(ctx, key, bytes.NewReader(data), blob.PutOptions{IfAbsent: true, ContentType: "application/json"})
		if err == nil {
			t.committed = true
			res := CommitResult{Version: version, Attempts: attempt}
			res.Checkpoint = t.postCommit(ctx, version)
			return res, nil
		}
		if !errs.Is(err, errs.Conflict) {
			return CommitResult{}, fmt.Errorf("write commit %s: %w", key, err)
		}
		if t.snap == nil {
			return CommitResult{}, errs.E(errs.AlreadyExists, ReasonTableExists, "a Delta table already exists at %q (version 0 was written concurrently)", t.table.root)
		}
		if attempt >= t.opts.MaxAttempts {
			return CommitResult{}, errs.E(errs.Conflict, ReasonConcurrentModification,
				"gave up committing after %d attempts: concurrent writers kept winning (last tried version %d)", attempt, version)
		}
		// Read the winners from version on and check them.
		for {
			acts, err := t.table.readActionsFile(ctx, t.table.logPrefix()+fmt.Sprintf("%020d.json", version))
			if errs.Is(err, errs.NotFound) {
				break
			}
			if err != nil {
				return CommitResult{}, fmt.Errorf("read winning commit %d: %w", version, err)
			}
			if err := t.checkConflict(version, acts); err != nil {
				return CommitResult{}, err
			}
			for i := range acts {
				if ci := acts[i].CommitInfo; ci != nil && ci.InCommitTimestamp != nil {
					lastICT = *ci.InCommitTimestamp
				}
			}
			version++
		}
		// Small jitter keeps a crowd of writers from colliding in lockstep.
		if attempt > 2 {
			d := time.Duration(rand.IntN(1+min(attempt, 20))) * time.Millisecond
			select {
			case <-ctx.Done():
				return CommitResult{}, ctx.Err()
			case <-time.After(d):
			}
		}
	}
}

// validateActions applies table rules that do not depend on races.
func (t *Transaction) validateActions() error {
	conf := t.config()
	if configBool(conf, "delta.appendOnly") {
		for _, r := range t.removes {
			if r.DataChange {
				return errs.E(errs.FailedPrecondition, ReasonAppendOnly, "the table is append-only (delta.appendOnly=true): removing or rewriting data (file %s) is not allowed", r.Path)
			}
		}
	}
	if p := t.currentProtocol(); p != nil && t.metadata != nil {
		schema, err := ParseSchema(t.metadata.SchemaString)
		if err != nil {
			return err
		}
		if err := checkWritable(p, t.metadata, schema); err != nil {
			return err
		}
	}
	if len(t.cdcs) > 0 && !configBool(conf, "delta.enableChangeDataFeed") {
		return errs.E(errs.FailedPrecondition, ReasonInvalidArgument, "cdc files staged but delta.enableChangeDataFeed is not enabled")
	}
	return nil
}

// isBlindAppend reports whether the transaction only adds data without
// reading the table.
func (t *Transaction) isBlindAppend() bool {
	if len(t.removes) > 0 || t.readWhole || len(t.readFilters) > 0 || len(t.readFiles) > 0 || t.metadata != nil || t.protocol != nil {
		return false
	}
	for _, a := range t.adds {
		if !a.DataChange {
			return false
		}
	}
	return true
}

func (t *Transaction) isolationLevel() string {
	if t.config()["delta.isolationLevel"] == "Serializable" {
		return "Serializable"
	}
	return "WriteSerializable"
}

// encode renders the commit file for version.
func (t *Transaction) encode(op Operation, version, lastICT int64) ([]byte, error) {
	now := t.opts.Clock().UnixMilli()
	ci := &CommitInfo{Timestamp: &now, Operation: op.Name, EngineInfo: t.opts.EngineInfo, Other: map[string]json.RawMessage{}}
	if configBool(t.config(), "delta.enableInCommitTimestamps") {
		ict := max(now, lastICT+1)
		ci.InCommitTimestamp = &ict
		ci.Timestamp = &ict
	}
	params := map[string]string{}
	for k, v := range op.Parameters {
		switch x := v.(type) {
		case string:
			params[k] = x
		default:
			params[k] = jsonString(x)
		}
	}
	metrics := t.metrics()
	for k, v := range op.Metrics {
		metrics[k] = strconv.FormatInt(v, 10)
	}
	raw := func(v any) json.RawMessage { b, _ := json.Marshal(v); return b }
	ci.Other["operationParameters"] = raw(params)
	ci.Other["operationMetrics"] = raw(metrics)
	ci.Other["isolationLevel"] = raw(t.isolationLevel())
	ci.Other["isBlindAppend"] = raw(t.isBlindAppend())
	if t.snap != nil {
		ci.Other["readVersion"] = raw(t.snap.Version())
	}
	ci.Other["txnId"] = raw(t.opts.NewID())
	actions := make([]Action, 0, 4+len(t.adds)+len(t.removes)+len(t.cdcs))
	actions = append(actions, Action{CommitInfo: ci})
	if t.protocol != nil {
		actions = append(actions, Action{Protocol: t.protocol})
	}
	if t.metadata != nil {
		actions = append(actions, Action{MetaData: t.metadata})
	}
	for i := range t.txns {
		actions = append(actions, Action{Txn: &t.txns[i]})
	}
	for i := range t.domains {
		actions = append(actions, Action{DomainMetadata: &t.domains[i]})
	}
	for _, r := range t.removes {
		actions = append(actions, Action{Remove: r})
	}
	for _, a := range t.adds {
		actions = append(actions, Action{Add: a})
	}
	for _, c := range t.cdcs {
		actions = append(actions, Action{CDC: c})
	}
	return MarshalActions(actions)
}

// metrics computes Spark's standard operation metrics from the actions.
func (t *Transaction) metrics() map[string]string {
	m := map[string]string{}
	if len(t.adds) == 0 && len(t.removes) == 0 {
		return m
	}
	var rows, bytes, removedBytes int64
	for _, a := range t.adds {
		bytes += a.Size
		if st := parseNumRecords(a.Stats); st >= 0 {
			rows += st
		}
	}
	for _, r := range t.removes {
		if r.Size != nil {
			removedBytes += *r.Size
		}
	}
	m["numFiles"] = strconv.Itoa(len(t.adds))
	m["numOutputRows"] = strconv.FormatInt(rows, 10)
	m["numOutputBytes"] = strconv.FormatInt(bytes, 10)
	if len(t.removes) > 0 {
		m["numRemovedFiles"] = strconv.Itoa(len(t.removes))
		m["numRemovedBytes"] = strconv.FormatInt(removedBytes, 10)
		m["numAddedFiles"] = strconv.Itoa(len(t.adds))
	}
	if len(t.cdcs) > 0 {
		m["numAddedChangeFiles"] = strconv.Itoa(len(t.cdcs))
	}
	return m
}

// parseNumRecords extracts numRecords from stats JSON (-1 when absent).
func parseNumRecords(stats string) int64 {
	if stats == "" {
		return -1
	}
	var s struct {
		NumRecords *int64 `json:"numRecords"`
	}
	if json.Unmarshal([]byte(stats), &s) != nil || s.NumRecords == nil {
		return -1
	}
	return *s.NumRecords
}

// postCommit writes a checkpoint when version is a multiple of the
// checkpoint interval. Failures are logged, never returned: the commit is
// already durable.
func (t *Transaction) postCommit(ctx context.Context, version int64) bool {
	interval := int64(10)
	if v, ok := t.config()["delta.checkpointInterval"]; ok {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			interval = n
		}
	}
	if version == 0 || version%interval != 0 {
		return false
	}
	if p := t.currentProtocol(); p != nil && p.SupportsWriterFeature("v2Checkpoint") {
		t.opts.Logger.Info("checkpoint skipped", "reason", "v2Checkpoint tables need V2 checkpoints", "version", version)
		return false
	}
	if err := t.table.WriteCheckpoint(ctx, version, CheckpointOptions{Clock: t.opts.Clock}); err != nil {
		t.opts.Logger.Warn("checkpoint failed", "version", version, "error", err)
		return false
	}
	return true
}

package delta

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/blob"
)

func TestCheckpointWrittenAndRead(t *testing.T) {
	ctx := context.Background()
	tbl := mustDMLTable(t, map[string]string{"delta.checkpointInterval": "5"}, 4)              // versions 1..4
	_, err := tbl.Delete(ctx, &Comparison{Column: "part", Op: OpEq, Value: "a"}, DMLOptions{}) // version 5: tombstones
	require.NoError(t, err)
	txn, err := tbl.StartTransaction(ctx, TransactionOptions{})
	require.NoError(t, err)
	txn.SetTransaction("app", 3)
	txn.SetDomainMetadata(DomainMetadata{Domain: "lakebox.test", Configuration: `{"a":1}`})
	_, err = txn.Commit(ctx, Operation{Name: "SET TBLPROPERTIES"}) // version 6
	require.NoError(t, err)
	for i := 0; i < 4; i++ { // versions 7..10; 10 checkpoints
		mustAppend(t, tbl, []Row{{int64(1000 + i), "b", "x", int32(1)}})
	}
	lc, err := blob.ReadAll(ctx, tbl.Bucket(), tbl.LogPrefix()+"_last_checkpoint")
	require.NoError(t, err)
	var info map[string]any
	require.NoError(t, json.Unmarshal(lc, &info))
	require.Equal(t, float64(10), info["version"])
	require.NotContains(t, info, "parts")
	require.Contains(t, info, "sizeInBytes")
	_, err = tbl.Bucket().Head(ctx, tbl.LogPrefix()+"00000000000000000005.checkpoint.parquet")
	require.NoError(t, err)

	fromLog, err := tbl.SnapshotAt(ctx, 10)
	require.NoError(t, err)
	require.Equal(t, int64(10), fromLog.Segment().CheckpointVersion)
	require.Empty(t, fromLog.Segment().Commits)
	// Replaying the JSON commits alone gives the same state.
	require.NoError(t, tbl.Bucket().Delete(ctx, tbl.LogPrefix()+"_last_checkpoint"))
	for _, v := range []string{"05", "10"} {
		require.NoError(t, tbl.Bucket().Delete(ctx, tbl.LogPrefix()+"000000000000000000"+v+".checkpoint.parquet"))
	}
	fromJSON, err := tbl.SnapshotAt(ctx, 10)
	require.NoError(t, err)
	require.Equal(t, int64(-1), fromJSON.Segment().CheckpointVersion)
	require.Equal(t, len(fromJSON.Files()), len(fromLog.Files()))
	for i := range fromJSON.Files() {
		a, b := fromJSON.Files()[i], fromLog.Files()[i]
		require.Equal(t, a.Path, b.Path)
		require.Equal(t, a.Stats, b.Stats)
		require.Equal(t, a.PartitionValues, b.PartitionValues)
		require.Equal(t, a.Size, b.Size)
	}
	require.Equal(t, len(fromJSON.Tombstones()), len(fromLog.Tombstones()))
	require.Equal(t, fromJSON.Metadata().SchemaString, fromLog.Metadata().SchemaString)
	require.Equal(t, *fromJSON.Protocol(), *fromLog.Protocol())
	v, ok := fromLog.AppTransactionVersion("app")
	require.True(t, ok)
	require.Equal(t, int64(3), v)
	require.Contains(t, fromLog.DomainMetadata(), "lakebox.test")
	require.Equal(t, wReadSnap(t, fromJSON), wReadSnap(t, fromLog))
}

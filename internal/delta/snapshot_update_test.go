package delta

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/blob/memblob"
)

// requireSameSnapshot compares everything a reader sees of two snapshots.
func requireSameSnapshot(t *testing.T, want, got *Snapshot) {
	t.Helper()
	require.Equal(t, want.Version(), got.Version())
	require.Equal(t, want.Protocol(), got.Protocol())
	require.Equal(t, want.Metadata(), got.Metadata())
	require.Equal(t, want.Schema(), got.Schema())
	require.Equal(t, stateOf(want.Files()), stateOf(got.Files()))
	require.Equal(t, removesOf(want.Tombstones()), removesOf(got.Tombstones()))
	require.Equal(t, want.Transactions(), got.Transactions())
	require.Equal(t, want.DomainMetadata(), got.DomainMetadata())
	require.Equal(t, want.Timestamp(), got.Timestamp())
	require.Equal(t, want.LatestCommitInfo(), got.LatestCommitInfo())
	require.Equal(t, want.Segment().Version, got.Segment().Version)
}

// stateOf copies adds without dataChange: the flag describes the commit that
// added a file, not the table's state, and checkpoints store it as false.
func stateOf(adds []*Add) []Add {
	var out []Add
	for _, a := range adds {
		c := *a
		c.DataChange = false
		out = append(out, c)
	}
	return out
}

// removesOf copies tombstones without dataChange and stats: tombstones only
// serve VACUUM, and checkpoints store neither.
func removesOf(rs []*Remove) []Remove {
	var out []Remove
	for _, r := range rs {
		c := *r
		c.DataChange, c.Stats = false, ""
		out = append(out, c)
	}
	return out
}

// TestSnapshotUpdate drives a table through appends, deletes, overwrites,
// schema evolution, app transactions and checkpoints — half of them through a
// second Table instance, as another process would — and checks after every
// step that the cached, incrementally updated latest snapshot equals a fresh
// full replay.
func TestSnapshotUpdate(t *testing.T) {
	ctx := context.Background()
	bucket := memblob.New()
	cached := NewTable(bucket, "t")
	other := NewTable(bucket, "t")
	schema := &StructType{Fields: []*StructField{field("p", TypeString), field("id", TypeLong)}}
	_, err := cached.CreateTable(ctx, CreateTableOptions{Schema: schema, PartitionColumns: []string{"p"},
		Configuration: map[string]string{"delta.checkpointInterval": "4"}})
	require.NoError(t, err)

	check := func(step string) {
		t.Helper()
		got, err := cached.Latest(ctx)
		require.NoError(t, err, step)
		seg, err := NewTable(bucket, "t").LogSegment(ctx, -1)
		require.NoError(t, err)
		want, err := NewTable(bucket, "t").replay(ctx, seg)
		require.NoError(t, err)
		requireSameSnapshot(t, want, got)
	}
	check("create")
	// row pads values with NULLs to the current schema's width.
	row := func(vals ...any) Row { return append(Row(vals), make(Row, len(schema.Fields)-len(vals))...) }
	for i := 0; i < 14; i++ {
		w := cached
		if i%2 == 1 {
			w = other
		}
		switch i % 7 {
		case 0, 1, 2:
			_, err = w.Append(ctx, []Row{row(fmt.Sprintf("p%d", i%3), int64(i)), row(fmt.Sprintf("p%d", (i+1)%3), int64(i*10))}, WriteOptions{})
		case 3:
			_, err = w.Delete(ctx, &Comparison{Column: "p", Op: OpEq, Value: "p1"}, DMLOptions{})
		case 4:
			txn, terr := w.StartTransaction(ctx, TransactionOptions{})
			require.NoError(t, terr)
			txn.SetTransaction("stream-1", int64(i))
			_, terr = txn.WriteRows(ctx, []Row{row("p2", int64(100+i))}, WriteOptions{})
			require.NoError(t, terr)
			_, err = txn.Commit(ctx, Operation{Name: "WRITE"})
		case 5:
			_, err = w.Overwrite(ctx, []Row{row("p0", int64(i))}, OverwriteOptions{ReplaceWhere: &Comparison{Column: "p", Op: OpEq, Value: "p0"}})
		case 6:
			wide := &StructType{Fields: append(append([]*StructField(nil), schema.Fields...), field(fmt.Sprintf("c%d", i), TypeString))}
			schema = wide
			_, err = w.Append(ctx, []Row{row("p1", int64(i))}, WriteOptions{Schema: wide, MergeSchema: true})
		}
		require.NoError(t, err, "step %d", i)
		check(fmt.Sprintf("step %d", i))
	}
	t.Run("NoNewCommitsReturnsSameSnapshot", func(t *testing.T) {
		a, err := cached.Latest(ctx)
		require.NoError(t, err)
		b, err := a.Update(ctx)
		require.NoError(t, err)
		require.Same(t, a, b)
	})
}

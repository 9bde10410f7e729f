package query

import (
	"context"

	"github.com/lakebox/lakebox/internal/delta"
	"github.com/lakebox/lakebox/internal/errs"
)

// runTruncate handles TRUNCATE TABLE t: one Delta commit (operation
// TRUNCATE) that removes every data file, without reading the data. Needs
// MODIFY, like DELETE; a view is refused, and so is a PARTITION clause, as
// on Databricks, which does not support it on Delta tables (DELETE … WHERE
// on the partition columns does that).
//
// A table with a row filter is refused: the filter may hide rows from the
// caller, who must not remove rows they cannot see (DELETE FROM t removes
// the rows the caller sees). Databricks does not document this case; Lakebox
// errs on the side of the policy. Column masks hide values, not rows, so a
// masked table can be truncated.
func (st *stmt) runTruncate(ctx context.Context, toks []token) (*Result, error) {
	p := &parser{st: st, toks: toks, i: 1}
	st.kind = "TRUNCATE TABLE"
	if err := p.expect("TABLE"); err != nil {
		return nil, err
	}
	parts, err := p.name()
	if err != nil {
		return nil, err
	}
	if p.peek().upper() == "PARTITION" {
		full, err := st.scope(ctx).qualify(parts)
		if err != nil {
			return nil, err
		}
		return nil, errs.E(errs.Unimplemented, "DELTA_TRUNCATE_TABLE_PARTITION_NOT_SUPPORTED",
			"TRUNCATE TABLE … PARTITION is not supported on Delta tables (as on Databricks); use DELETE FROM %s WHERE <condition on the partition columns>", full)
	}
	if err := p.end(); err != nil {
		return nil, err
	}
	tg, err := st.openTarget(ctx, parts, false)
	if err != nil {
		return nil, err
	}
	if tg.info.RowFilter != nil {
		return nil, denied("TRUNCATE TABLE is refused on %s: its row filter may hide rows from you, and truncating would remove them too; DELETE FROM %s removes the rows you can see, or the owner can drop the row filter first", tg.full, tg.full)
	}
	txn, err := tg.snap.StartTransaction(delta.TransactionOptions{Logger: st.e.log})
	if err != nil {
		return nil, err
	}
	txn.ReadWholeTable()
	txn.RemoveFiles(tg.snap.Files()...)
	if _, err := st.commit(ctx, tg, txn, delta.Operation{Name: "TRUNCATE"}, nil); err != nil {
		return nil, err
	}
	return okResult(), nil
}

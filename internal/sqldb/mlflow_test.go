package sqldb_test

import (
	"context"
	"fmt"
	"math"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/sqldb"
	"github.com/lakebox/lakebox/internal/tracking"
)

// TestSearchRunsPlanner checks the run search against a brute-force
// evaluation on an experiment large enough (6,000 runs) for the planner to
// probe clauses, so every strategy is exercised: selective clauses driving
// the search (alone and intersected), correlated probes, and the segmented
// metric ordering (numbers, NaN, missing) with paging across segments.
func TestSearchRunsPlanner(t *testing.T) {
	for name, open := range backends() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := sqldb.NewTrackingStore(open(t))
			svc := tracking.NewService(st)
			exp, err := svc.CreateExperiment(ctx, "big", "", nil)
			require.NoError(t, err)
			const n = 6000
			type fake struct {
				id          string
				start       int64
				acc         float64
				hasAcc, nan bool
				model, team string
			}
			var all []fake
			var runs []tracking.Run
			for i := 0; i < n; i++ {
				f := fake{id: fmt.Sprintf("%032x", i), start: int64(1000 + i/2), acc: float64(i%100) / 100, hasAcc: i%7 != 0, nan: i%11 == 0,
					model: []string{"rf", "gbm"}[i%2], team: []string{"a", "b", "c"}[i%3]}
				all = append(all, f)
				r := tracking.Run{Info: tracking.RunInfo{RunID: f.id, ExperimentID: exp, RunName: "r", Status: "FINISHED", StartTime: f.start,
					ArtifactURI: "x", LifecycleStage: "active"},
					Data: tracking.RunData{Params: []tracking.Param{{Key: "model", Value: f.model}}, Tags: []tracking.Tag{{Key: "team", Value: f.team}}}}
				if f.hasAcc {
					v := f.acc
					if f.nan {
						v = math.NaN()
					}
					r.Data.Metrics = []tracking.Metric{{Key: "acc", Value: tracking.Value(v), Timestamp: 1}}
				}
				runs = append(runs, r)
			}
			require.NoError(t, st.ImportRuns(ctx, runs))
			var expID int64
			fmt.Sscan(exp, &expID)

			defaultOrder := func(a, b fake) bool {
				if a.start != b.start {
					return a.start > b.start
				}
				return a.id < b.id
			}
			// rank: 0 number, 1 NaN, 2 missing
			rank := func(f fake) int {
				switch {
				case !f.hasAcc:
					return 2
				case f.nan:
					return 1
				}
				return 0
			}
			byAcc := func(desc bool) func(a, b fake) bool {
				return func(a, b fake) bool {
					if rank(a) != rank(b) {
						return rank(a) < rank(b)
					}
					if rank(a) == 0 && a.acc != b.acc {
						return (a.acc > b.acc) == desc
					}
					return defaultOrder(a, b)
				}
			}
			for _, tc := range []struct {
				filter string
				match  func(f fake) bool
				order  []tracking.OrderKey
				less   func(a, b fake) bool
			}{
				{"metrics.acc > 0.985 AND params.model = 'gbm'", func(f fake) bool { return f.hasAcc && !f.nan && f.acc > 0.985 && f.model == "gbm" }, nil, defaultOrder},
				{"metrics.acc > 0.985 AND tags.team = 'a' AND params.model = 'gbm'", func(f fake) bool {
					return f.hasAcc && !f.nan && f.acc > 0.985 && f.team == "a" && f.model == "gbm"
				}, nil, defaultOrder},
				{"metrics.acc > 0.5 AND params.model = 'rf' AND tags.team = 'a'", func(f fake) bool {
					return f.hasAcc && !f.nan && f.acc > 0.5 && f.model == "rf" && f.team == "a"
				}, nil, defaultOrder},
				{"", func(fake) bool { return true }, []tracking.OrderKey{{Entity: tracking.EntityMetric, Key: "acc", Desc: true}}, byAcc(true)},
				{"tags.team = 'b'", func(f fake) bool { return f.team == "b" }, []tracking.OrderKey{{Entity: tracking.EntityMetric, Key: "acc"}}, byAcc(false)},
				{"metrics.acc < 0.03", func(f fake) bool { return f.hasAcc && !f.nan && f.acc < 0.03 },
					[]tracking.OrderKey{{Entity: tracking.EntityMetric, Key: "acc", Desc: true}}, byAcc(true)},
			} {
				var want []string
				var sel []fake
				for _, f := range all {
					if tc.match(f) {
						sel = append(sel, f)
					}
				}
				sort.SliceStable(sel, func(i, j int) bool { return tc.less(sel[i], sel[j]) })
				for _, f := range sel {
					want = append(want, f.id)
				}
				clauses, err := tracking.ParseFilter(tc.filter, tracking.RunGrammar)
				require.NoError(t, err)
				var got []string
				for off, pages := 0, 0; ; pages++ {
					ids, more, err := st.SearchRuns(ctx, tracking.RunQuery{ExperimentIDs: []int64{expID}, Filter: clauses, OrderBy: tc.order,
						ViewType: tracking.ViewActiveOnly, MaxResults: 700, Offset: off})
					require.NoError(t, err, tc.filter)
					got = append(got, ids...)
					if !more {
						break
					}
					off += 700
					require.Less(t, pages, 20)
				}
				require.Equal(t, len(want), len(got), tc.filter)
				require.Equal(t, want, got, "%s %v", tc.filter, tc.order)
			}
		})
	}
}

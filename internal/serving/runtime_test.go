package serving

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRuntimes(t *testing.T) {
	e := loadExpected(t)
	src := newModelTree(t)
	ctx := context.Background()
	t.Run("XGBoostParity", func(t *testing.T) {
		in := &Frame{Columns: e.Columns, Rows: e.XMissing}
		for _, tc := range []struct {
			name string
			want []float64
		}{{"xgb_bin", e.XGBBin}, {"xgb_reg", e.XGBReg}} {
			rt, r := openReplica(t, src, tc.name)
			require.Equal(t, "xgboost", rt.Kind())
			got, err := r.Predict(ctx, in)
			require.NoError(t, err)
			for i, w := range tc.want {
				require.InDelta(t, w, got.([]any)[i].(float64), 1e-5, "%s row %d", tc.name, i)
			}
		}
		_, r := openReplica(t, src, "xgb_multi")
		got, err := r.Predict(ctx, in)
		require.NoError(t, err)
		for i, w := range e.XGBMulti {
			row := got.([]any)[i].([]any)
			for k := range w {
				require.InDelta(t, w[k], row[k].(float64), 1e-5, "xgb_multi row %d class %d", i, k)
			}
		}
	})
	t.Run("ONNX", func(t *testing.T) {
		rt, r := openReplica(t, src, "onnx_lr")
		require.Equal(t, "onnx", rt.Kind())
		got, err := r.Predict(ctx, frameOf(e.Columns, e.X))
		require.NoError(t, err)
		for i, w := range e.ONNX {
			require.InDelta(t, w[0], got.([]any)[i].([]any)[0].(float64), 1e-5)
		}
	})
	t.Run("PythonSklearn", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			want []float64
		}{{"lr", e.LR}, {"rf", e.RF}} {
			rt, r := openReplica(t, src, tc.name)
			require.Equal(t, "python", rt.Kind())
			got, err := r.Predict(ctx, frameOf(e.Columns, e.X))
			require.NoError(t, err)
			require.Len(t, got, len(tc.want))
			for i, w := range tc.want {
				require.Equal(t, w, got.([]any)[i].(float64), "%s row %d", tc.name, i)
			}
			require.NoError(t, r.Ping(ctx))
		}
	})
}

package cli

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/app/apptest"
	"github.com/lakebox/lakebox/internal/tracking"
)

func TestMLflowCommands(t *testing.T) {
	srv := apptest.New(t, "SQLite")
	vars := map[string]string{"HOME": t.TempDir(), "LAKEBOX_HOST": srv.URL, "LAKEBOX_TOKEN": apptest.AdminToken}
	ctx := context.Background()

	code, out, errOut := run(t, vars, "", "experiments", "create", "churn")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "churn")
	code, out, _ = run(t, vars, "", "experiments", "list")
	require.Equal(t, 0, code)
	require.Contains(t, out, "Default")
	require.Contains(t, out, "mlflow-artifacts:/1")
	code, out, _ = run(t, vars, "", "experiments", "get", "churn")
	require.Equal(t, 0, code)
	require.Contains(t, out, "experiment_id")

	c := srv.Admin
	var ids []string
	for i, lr := range []string{"0.1", "0.01"} {
		r, err := c.CreateRun(ctx, "1", []string{"fast", "slow"}[i])
		require.NoError(t, err)
		require.NoError(t, c.LogBatch(ctx, r.Info.RunID, []tracking.Metric{{Key: "auc", Value: tracking.Value(0.8 + float64(i)/10), Timestamp: 1}},
			[]tracking.Param{{Key: "lr", Value: lr}, {Key: "model", Value: "gbm"}}, nil))
		ids = append(ids, r.Info.RunID)
	}
	code, out, errOut = run(t, vars, "", "runs", "list", "--experiment", "1", "--filter", "metrics.auc > 0.85", "--order-by", "metrics.auc DESC")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "slow")
	require.NotContains(t, out, "fast")
	code, out, errOut = run(t, vars, "", "runs", "compare", ids[0], ids[1])
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `\*\s+params\.lr\s+0\.1\s+0\.01`, out)
	require.Regexp(t, `\n\s+params\.model\s+gbm\s+gbm`, out)
	require.Regexp(t, `\*\s+metrics\.auc\s+0\.8\s+0\.9`, out)
	code, out, _ = run(t, vars, "", "runs", "get", ids[1], "-o", "json")
	require.Equal(t, 0, code)
	require.Contains(t, out, `"run_name": "slow"`)

	require.NoError(t, c.UploadArtifact(ctx, "1/"+ids[1]+"/artifacts/model/MLmodel", []byte("x")))
	code, out, errOut = run(t, vars, "", "models", "register", "churn", "runs:/"+ids[1]+"/model")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "main.default.churn")
	code, out, errOut = run(t, vars, "", "models", "alias", "set", "churn", "champion", "1")
	require.Equal(t, 0, code, errOut)
	code, out, _ = run(t, vars, "", "models", "list")
	require.Equal(t, 0, code)
	require.Contains(t, out, "champion=1")
	code, out, _ = run(t, vars, "", "models", "versions", "churn")
	require.Equal(t, 0, code)
	require.Contains(t, out, "runs:/"+ids[1]+"/model")
	code, out, errOut = run(t, vars, "", "models", "resolve", "models:/churn@champion")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "1/"+ids[1]+"/artifacts/model/MLmodel")

	code, _, errOut = run(t, vars, "", "runs", "compare", ids[0])
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "at least two run ids")
	code, _, errOut = run(t, vars, "", "runs", "get", "nope")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "RESOURCE_DOES_NOT_EXIST")
}

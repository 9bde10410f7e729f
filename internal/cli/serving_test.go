package cli

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lakebox/lakebox/internal/app/apptest"
)

func TestEndpointRequest(t *testing.T) {
	env := &Env{}
	req, err := endpointRequest(env, "churn", "main.default.churn@champion", "", "Small", "main.default.churn_log", true)
	require.NoError(t, err)
	e := req.Config.ServedEntities[0]
	require.Equal(t, "main.default.churn", e.EntityName)
	require.Equal(t, "champion", e.EntityAlias)
	require.True(t, e.ScaleToZeroEnabled)
	require.Equal(t, "churn_log", req.Config.AutoCaptureConfig.TableNamePrefix)

	req, err = endpointRequest(env, "churn", "main.default.churn/3", "", "Small", "", false)
	require.NoError(t, err)
	require.Equal(t, "3", req.Config.ServedEntities[0].EntityVersion)

	req, err = endpointRequest(env, "x", "", `{"config":{"served_entities":[{"entity_name":"a.b.c","entity_version":"1"}]}}`, "", "", false)
	require.NoError(t, err)
	require.Equal(t, "x", req.Name)

	for _, bad := range [][2]string{{"main.default.churn", ""}, {"", ""}, {"a.b.c@x", "{}"}} {
		_, err := endpointRequest(env, "n", bad[0], bad[1], "", "", false)
		require.Error(t, err, "%v", bad)
	}
	_, err = endpointRequest(env, "n", "a.b.c@x", "", "", "not.three", false)
	require.ErrorContains(t, err, "CATALOG.SCHEMA.TABLE_PREFIX")
}

func TestServingEndpointsCommand(t *testing.T) {
	srv := apptest.New(t, "SQLite")
	vars := map[string]string{"HOME": t.TempDir(), "LAKEBOX_HOST": srv.URL, "LAKEBOX_TOKEN": apptest.AdminToken}
	code, out, errOut := run(t, vars, "", "serving-endpoints", "list")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "NAME")
	code, _, errOut = run(t, vars, "", "serving-endpoints", "create", "churn", "--model", "main.default.nosuch@champion")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "nosuch")
	code, _, errOut = run(t, vars, "", "serving-endpoints", "query", "nosuch", "--json", `{"inputs":[[1]]}`)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "nosuch")
	code, _, errOut = run(t, vars, "", "serving-endpoints", "create", "churn")
	require.Equal(t, 2, code, errOut)
}

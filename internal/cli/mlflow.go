package cli

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lakebox/lakebox/internal/client"
	"github.com/lakebox/lakebox/internal/tracking"
)

func fmtValue(v tracking.Value) string {
	b, _ := v.MarshalJSON()
	return strings.Trim(string(b), `"`)
}

func newExperimentsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "experiments", Short: "MLflow experiments: list, create, get, delete", Args: noArgs}
	var filter string
	var all bool
	list := &cobra.Command{
		Use: "list", Short: "List experiments (MLflow search filter with --filter)", Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			view := ""
			if all {
				view = tracking.ViewAll
			}
			exps, err := c.SearchExperiments(cmd.Context(), filter, 0, view)
			if err != nil {
				return err
			}
			return g.emit(exps, func() *table {
				t := &table{header: []string{"ID", "NAME", "ARTIFACT LOCATION", "STAGE", "CREATED"}}
				for _, e := range exps {
					t.add(e.ExperimentID, e.Name, e.ArtifactLocation, e.LifecycleStage, msTime(e.CreationTime))
				}
				return t
			})
		},
	}
	list.Flags().StringVar(&filter, "filter", "", "filter, e.g. \"name LIKE 'churn%'\"")
	list.Flags().BoolVar(&all, "all", false, "include deleted experiments")
	create := &cobra.Command{
		Use: "create NAME", Short: "Create an experiment", Args: exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			id, err := c.CreateExperiment(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return g.emit(map[string]string{"experiment_id": id}, func() *table {
				t := &table{header: []string{"ID", "NAME"}}
				t.add(id, args[0])
				return t
			})
		},
	}
	get := &cobra.Command{
		Use: "get ID|NAME", Short: "Show an experiment", Args: exactArgs(1, "ID|NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			e, err := c.GetExperimentByName(cmd.Context(), args[0])
			if _, nerr := strconv.ParseInt(args[0], 10, 64); err != nil && nerr == nil {
				e, err = c.GetExperiment(cmd.Context(), args[0])
			}
			if err != nil {
				return err
			}
			return g.emit(e, func() *table {
				t := &table{header: []string{"FIELD", "VALUE"}}
				t.add("experiment_id", e.ExperimentID)
				t.add("name", e.Name)
				t.add("artifact_location", e.ArtifactLocation)
				t.add("lifecycle_stage", e.LifecycleStage)
				for _, tg := range e.Tags {
					t.add("tag."+tg.Key, tg.Value)
				}
				return t
			})
		},
	}
	del := &cobra.Command{
		Use: "delete ID", Short: "Delete an experiment (restorable)", Args: exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			return c.MLflow(cmd.Context(), "POST", "experiments/delete", map[string]string{"experiment_id": args[0]}, nil)
		},
	}
	cmd.AddCommand(list, create, get, del)
	return cmd
}

func newRunsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "runs", Short: "MLflow runs: list, get, compare, delete", Args: noArgs}
	var exps []string
	var filter string
	var orderBy []string
	var maxResults int
	list := &cobra.Command{
		Use: "list", Short: "Search runs of experiments", Args: noArgs,
		Example: `  lakebox runs list --experiment 1 --filter "metrics.acc > 0.9 AND params.model = 'rf'" --order-by "metrics.acc DESC"`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(exps) == 0 {
				return usagef("--experiment is required (an experiment id; repeat for several)")
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			runs, _, err := c.SearchRuns(cmd.Context(), client.SearchRunsRequest{ExperimentIDs: exps, Filter: filter, OrderBy: orderBy, MaxResults: maxResults})
			if err != nil {
				return err
			}
			return g.emit(runs, func() *table {
				t := &table{header: []string{"RUN ID", "NAME", "STATUS", "STARTED", "METRICS"}}
				for _, r := range runs {
					var ms []string
					for _, m := range r.Data.Metrics {
						ms = append(ms, m.Key+"="+fmtValue(m.Value))
					}
					t.add(r.Info.RunID, r.Info.RunName, r.Info.Status, msTime(r.Info.StartTime), strings.Join(ms, " "))
				}
				return t
			})
		},
	}
	list.Flags().StringSliceVar(&exps, "experiment", nil, "experiment id (repeatable)")
	list.Flags().StringVar(&filter, "filter", "", "MLflow filter")
	list.Flags().StringArrayVar(&orderBy, "order-by", nil, "order, e.g. 'metrics.acc DESC' (repeatable)")
	list.Flags().IntVar(&maxResults, "max", 100, "maximum runs")
	get := &cobra.Command{
		Use: "get RUN_ID", Short: "Show a run", Args: exactArgs(1, "RUN_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			r, err := c.GetRun(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return g.emit(r, func() *table {
				t := &table{header: []string{"FIELD", "VALUE"}}
				t.add("run_id", r.Info.RunID)
				t.add("name", r.Info.RunName)
				t.add("experiment_id", r.Info.ExperimentID)
				t.add("status", r.Info.Status)
				t.add("artifact_uri", r.Info.ArtifactURI)
				for _, p := range r.Data.Params {
					t.add("param."+p.Key, p.Value)
				}
				for _, m := range r.Data.Metrics {
					t.add("metric."+m.Key, fmtValue(m.Value))
				}
				for _, tg := range r.Data.Tags {
					t.add("tag."+tg.Key, tg.Value)
				}
				for _, d := range r.Inputs.DatasetInputs {
					t.add("dataset."+d.Dataset.Name, d.Dataset.Digest+" "+d.Dataset.Source)
				}
				return t
			})
		},
	}
	compare := &cobra.Command{
		Use: "compare RUN_ID RUN_ID...", Short: "Compare params and latest metrics of runs side by side",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return usagef("runs compare takes at least two run ids")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			runs := make([]tracking.Run, len(args))
			for i, id := range args {
				if runs[i], err = c.GetRun(cmd.Context(), id); err != nil {
					return err
				}
			}
			return g.emit(runs, func() *table { return compareTable(runs) })
		},
	}
	del := &cobra.Command{
		Use: "delete RUN_ID", Short: "Delete a run (restorable)", Args: exactArgs(1, "RUN_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			return c.MLflow(cmd.Context(), "POST", "runs/delete", map[string]string{"run_id": args[0]}, nil)
		},
	}
	cmd.AddCommand(list, get, compare, del)
	return cmd
}

// compareTable puts runs in columns and their params and metrics in rows;
// rows whose values differ are marked with "*".
func compareTable(runs []tracking.Run) *table {
	t := &table{header: []string{"", "KEY"}}
	for _, r := range runs {
		name := r.Info.RunName
		if name == "" {
			name = r.Info.RunID[:8]
		}
		t.header = append(t.header, name)
	}
	rows := map[string][]string{}
	set := func(key string, i int, v string) {
		if rows[key] == nil {
			rows[key] = make([]string, len(runs))
			for j := range rows[key] {
				rows[key][j] = "-"
			}
		}
		rows[key][i] = v
	}
	for i, r := range runs {
		set("run_id", i, r.Info.RunID)
		set("status", i, r.Info.Status)
		for _, p := range r.Data.Params {
			set("params."+p.Key, i, p.Value)
		}
		for _, m := range r.Data.Metrics {
			set("metrics."+m.Key, i, fmtValue(m.Value))
		}
	}
	keys := make([]string, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		rank := func(k string) int {
			switch {
			case k == "run_id" || k == "status":
				return 0
			case strings.HasPrefix(k, "params."):
				return 1
			}
			return 2
		}
		if rank(keys[i]) != rank(keys[j]) {
			return rank(keys[i]) < rank(keys[j])
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		vals := rows[k]
		mark := ""
		for _, v := range vals[1:] {
			if v != vals[0] {
				mark = "*"
			}
		}
		cells := []any{mark, k}
		for _, v := range vals {
			cells = append(cells, v)
		}
		t.add(cells...)
	}
	return t
}

func newModelsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "models", Short: "MLflow model registry: list, get, versions, aliases, register",
		Long: `Registered models are Unity Catalog securables with three-level names
(main.default.churn). A bare name means main.default.<name>.`, Args: noArgs}
	var filter string
	list := &cobra.Command{
		Use: "list", Short: "Search registered models", Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			ms, err := c.SearchRegisteredModels(cmd.Context(), filter, 0)
			if err != nil {
				return err
			}
			return g.emit(ms, func() *table {
				t := &table{header: []string{"NAME", "LATEST", "ALIASES", "UPDATED"}}
				for _, m := range ms {
					var latest, aliases []string
					for _, v := range m.LatestVersions {
						latest = append(latest, v.Version+"("+v.CurrentStage+")")
					}
					for _, a := range m.Aliases {
						aliases = append(aliases, a.Alias+"="+a.Version)
					}
					t.add(m.Name, strings.Join(latest, ","), strings.Join(aliases, ","), msTime(m.LastUpdatedTimestamp))
				}
				return t
			})
		},
	}
	list.Flags().StringVar(&filter, "filter", "", "filter, e.g. \"name LIKE 'churn%'\"")
	versions := &cobra.Command{
		Use: "versions NAME", Short: "List a model's versions", Args: exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			vs, err := c.SearchModelVersions(cmd.Context(), "name = '"+strings.ReplaceAll(args[0], "'", "''")+"'")
			if err != nil {
				return err
			}
			return g.emit(vs, func() *table {
				t := &table{header: []string{"VERSION", "STAGE", "STATUS", "ALIASES", "RUN ID", "SOURCE"}}
				for _, v := range vs {
					t.add(v.Version, v.CurrentStage, v.Status, strings.Join(v.Aliases, ","), v.RunID, v.Source)
				}
				return t
			})
		},
	}
	register := &cobra.Command{
		Use: "register NAME SOURCE", Short: "Register a new version from a runs:/, models:/ or mlflow-artifacts:/ URI (creating the model if needed)",
		Args: exactArgs(2, "NAME", "SOURCE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			if _, err := c.GetRegisteredModel(cmd.Context(), args[0]); err != nil {
				if _, err := c.CreateRegisteredModel(cmd.Context(), args[0], ""); err != nil {
					return err
				}
			}
			runID := ""
			if rest, ok := strings.CutPrefix(args[1], "runs:/"); ok {
				runID, _, _ = strings.Cut(rest, "/")
			}
			v, err := c.CreateModelVersion(cmd.Context(), args[0], args[1], runID)
			if err != nil {
				return err
			}
			return g.emit(v, func() *table {
				t := &table{header: []string{"NAME", "VERSION", "SOURCE"}}
				t.add(v.Name, v.Version, v.Source)
				return t
			})
		},
	}
	alias := &cobra.Command{Use: "alias", Short: "Set or delete model aliases", Args: noArgs}
	aliasSet := &cobra.Command{
		Use: "set NAME ALIAS VERSION", Short: "Point an alias (e.g. champion) at a version", Args: exactArgs(3, "NAME", "ALIAS", "VERSION"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			if err := c.SetModelAlias(cmd.Context(), args[0], args[1], args[2]); err != nil {
				return err
			}
			fmt.Fprintf(g.env.Stdout, "%s@%s -> version %s\n", args[0], args[1], args[2])
			return nil
		},
	}
	aliasDel := &cobra.Command{
		Use: "delete NAME ALIAS", Short: "Delete an alias", Args: exactArgs(2, "NAME", "ALIAS"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			return c.DeleteModelAlias(cmd.Context(), args[0], args[1])
		},
	}
	alias.AddCommand(aliasSet, aliasDel)
	resolve := &cobra.Command{
		Use: "resolve URI", Short: "Resolve models:/NAME@ALIAS, models:/NAME/VERSION or runs:/ URIs to artifacts", Args: exactArgs(1, "URI"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			p, files, err := c.ResolveArtifactURI(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return g.emit(map[string]any{"artifact_uri": "mlflow-artifacts:/" + p, "files": files}, func() *table {
				t := &table{header: []string{"PATH", "DIR", "SIZE"}}
				for _, f := range files {
					t.add(p+"/"+f.Path, f.IsDir, f.FileSize)
				}
				return t
			})
		},
	}
	cmd.AddCommand(list, versions, register, alias, resolve)
	return cmd
}

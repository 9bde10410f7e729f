package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lakebox/lakebox/internal/serving"
)

// readJSONArg returns the bytes of a --json value: inline JSON, @file, or
// "-" for standard input.
func readJSONArg(env *Env, v string) ([]byte, error) {
	switch {
	case v == "-":
		return io.ReadAll(env.Stdin)
	case strings.HasPrefix(v, "@"):
		b, err := os.ReadFile(v[1:])
		if err != nil {
			return nil, usagef("cannot read %s: %v", v[1:], err)
		}
		return b, nil
	}
	return []byte(v), nil
}

func endpointTable(vs ...serving.EndpointView) *table {
	t := &table{header: []string{"NAME", "READY", "CONFIG UPDATE", "SERVED ENTITIES", "TRAFFIC", "CREATOR"}}
	for _, v := range vs {
		var served, traffic []string
		if v.Config != nil {
			for _, e := range v.Config.ServedEntities {
				ref := e.EntityName
				if e.EntityAlias != "" {
					ref += "@" + e.EntityAlias
				}
				if e.ResolvedVersion != "" {
					ref += " (v" + e.ResolvedVersion + ")"
				} else if e.EntityVersion != "" {
					ref += " v" + e.EntityVersion
				}
				served = append(served, ref)
			}
			if v.Config.TrafficConfig != nil {
				for _, r := range v.Config.TrafficConfig.Routes {
					traffic = append(traffic, fmt.Sprintf("%s=%d%%", r.ServedEntityName+r.ServedModelName, r.TrafficPercentage))
				}
			}
		}
		t.add(v.Name, v.State.Ready, v.State.ConfigUpdate, strings.Join(served, ", "), strings.Join(traffic, " "), v.Creator)
	}
	return t
}

func newServingCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serving-endpoints",
		Short: "Create, update, query and delete model serving endpoints",
		Long: `Serve registered models over REST (POST /serving-endpoints/NAME/invocations,
MLflow scoring protocol). A served entity names a registered model at a
version or an alias: promote a model by moving its alias, and the endpoint
follows with a rolling update.`,
		Args: noArgs,
	}
	list := &cobra.Command{
		Use: "list", Short: "List endpoints", Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cl, err := g.client()
			if err != nil {
				return err
			}
			vs, err := cl.ListServingEndpoints(c.Context())
			if err != nil {
				return err
			}
			return g.emit(map[string]any{"endpoints": vs}, func() *table { return endpointTable(vs...) })
		},
	}
	get := &cobra.Command{
		Use: "get NAME", Short: "Show an endpoint's configuration and state", Args: exactArgs(1, "NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := g.client()
			if err != nil {
				return err
			}
			v, err := cl.GetServingEndpoint(c.Context(), args[0])
			if err != nil {
				return err
			}
			return g.emit(v, func() *table { return endpointTable(v) })
		},
	}
	var model, capture, jsonCfg, workload string
	var scaleToZero bool
	create := &cobra.Command{
		Use:   "create NAME (--model CATALOG.SCHEMA.MODEL@ALIAS|/VERSION | --json CONFIG)",
		Short: "Create an endpoint serving one model, or from a full JSON config",
		Long: `Create an endpoint. With --model it serves one registered model at an alias
(main.default.churn@champion) or a version (main.default.churn/3) with all
traffic. --json takes the full Databricks create request body (inline, @file
or - for stdin), for several served entities and traffic splits.`,
		Args: exactArgs(1, "NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			req, err := endpointRequest(g.env, args[0], model, jsonCfg, workload, capture, scaleToZero)
			if err != nil {
				return err
			}
			cl, err := g.client()
			if err != nil {
				return err
			}
			v, err := cl.CreateServingEndpoint(c.Context(), req)
			if err != nil {
				return err
			}
			return g.emit(v, func() *table { return endpointTable(v) })
		},
	}
	create.Flags().StringVar(&model, "model", "", "registered model to serve: CATALOG.SCHEMA.MODEL@ALIAS or CATALOG.SCHEMA.MODEL/VERSION")
	create.Flags().StringVar(&jsonCfg, "json", "", "full create request as JSON (inline, @file or -)")
	create.Flags().StringVar(&workload, "workload-size", "Small", "Small, Medium or Large (replica range)")
	create.Flags().BoolVar(&scaleToZero, "scale-to-zero", false, "scale to zero replicas when idle (the next request cold-starts)")
	create.Flags().StringVar(&capture, "inference-table", "", "log every request to this Delta table: CATALOG.SCHEMA.TABLE_PREFIX")

	var cfgJSON string
	update := &cobra.Command{
		Use:   "update-config NAME --json CONFIG",
		Short: "Replace an endpoint's config (rolling update: new replicas ready before traffic moves)",
		Args:  exactArgs(1, "NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			if cfgJSON == "" {
				return usagef("--json is required: the endpoint config (served_entities, traffic_config, auto_capture_config)")
			}
			b, err := readJSONArg(g.env, cfgJSON)
			if err != nil {
				return err
			}
			var cfg serving.EndpointConfig
			if err := json.Unmarshal(b, &cfg); err != nil {
				return usagef("--json is not a valid endpoint config: %v", err)
			}
			cl, err := g.client()
			if err != nil {
				return err
			}
			v, err := cl.UpdateServingEndpointConfig(c.Context(), args[0], cfg)
			if err != nil {
				return err
			}
			return g.emit(v, func() *table { return endpointTable(v) })
		},
	}
	update.Flags().StringVar(&cfgJSON, "json", "", "endpoint config as JSON (inline, @file or -)")

	del := &cobra.Command{
		Use: "delete NAME", Short: "Delete an endpoint", Args: exactArgs(1, "NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := g.client()
			if err != nil {
				return err
			}
			if err := cl.DeleteServingEndpoint(c.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(g.env.Stdout, "Deleted endpoint %s\n", args[0])
			return nil
		},
	}
	var body string
	var csv bool
	query := &cobra.Command{
		Use:   "query NAME --json REQUEST",
		Short: "Score a request (MLflow scoring JSON such as {\"dataframe_records\": [...]}, or CSV with --csv)",
		Args:  exactArgs(1, "NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			if body == "" {
				return usagef("--json is required: a scoring request, e.g. '{\"dataframe_records\": [{\"x\": 1}]}' (or @file, or - for stdin)")
			}
			b, err := readJSONArg(g.env, body)
			if err != nil {
				return err
			}
			cl, err := g.client()
			if err != nil {
				return err
			}
			ct := "application/json"
			if csv {
				ct = "text/csv"
			}
			out, served, err := cl.QueryServingEndpoint(c.Context(), args[0], ct, b)
			if err != nil {
				return err
			}
			if served != "" && g.output != "json" {
				fmt.Fprintf(g.env.Stderr, "served by %s\n", served)
			}
			_, err = g.env.Stdout.Write(append(out, '\n'))
			return err
		},
	}
	query.Flags().StringVar(&body, "json", "", "request body (inline, @file or -)")
	query.Flags().BoolVar(&csv, "csv", false, "the body is CSV with a header row")
	events := &cobra.Command{
		Use: "events NAME", Short: "Show an endpoint's events log (JSON)", Args: exactArgs(1, "NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			cl, err := g.client()
			if err != nil {
				return err
			}
			ev, err := cl.ServingEndpointEvents(c.Context(), args[0])
			if err != nil {
				return err
			}
			_, err = g.env.Stdout.Write(append(ev, '\n'))
			return err
		},
	}
	cmd.AddCommand(list, get, create, update, del, query, events)
	return cmd
}

// endpointRequest builds a create request from --model or --json.
func endpointRequest(env *Env, name, model, jsonCfg, workload, capture string, scaleToZero bool) (serving.CreateRequest, error) {
	switch {
	case model != "" && jsonCfg != "":
		return serving.CreateRequest{}, usagef("--model and --json exclude each other")
	case jsonCfg != "":
		b, err := readJSONArg(env, jsonCfg)
		if err != nil {
			return serving.CreateRequest{}, err
		}
		var req serving.CreateRequest
		if err := json.Unmarshal(b, &req); err != nil {
			return req, usagef("--json is not a valid create request: %v", err)
		}
		if req.Name == "" {
			req.Name = name
		}
		return req, nil
	case model == "":
		return serving.CreateRequest{}, usagef("give --model CATALOG.SCHEMA.MODEL@ALIAS (or /VERSION), or --json with a full config")
	}
	entity := serving.ServedEntityInput{WorkloadSize: workload, ScaleToZeroEnabled: scaleToZero}
	if i := strings.LastIndex(model, "@"); i > 0 {
		entity.EntityName, entity.EntityAlias = model[:i], model[i+1:]
	} else if i := strings.LastIndex(model, "/"); i > 0 {
		entity.EntityName, entity.EntityVersion = model[:i], model[i+1:]
	} else {
		return serving.CreateRequest{}, usagef("--model %q: use CATALOG.SCHEMA.MODEL@ALIAS or CATALOG.SCHEMA.MODEL/VERSION", model)
	}
	cfg := &serving.EndpointConfig{ServedEntities: []serving.ServedEntityInput{entity}}
	if capture != "" {
		parts := strings.Split(capture, ".")
		if len(parts) != 3 {
			return serving.CreateRequest{}, usagef("--inference-table %q: use CATALOG.SCHEMA.TABLE_PREFIX", capture)
		}
		on := true
		cfg.AutoCaptureConfig = &serving.AutoCaptureConfig{CatalogName: parts[0], SchemaName: parts[1], TableNamePrefix: parts[2], Enabled: &on}
	}
	return serving.CreateRequest{Name: name, Config: cfg}, nil
}

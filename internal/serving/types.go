package serving

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/lakebox/lakebox/internal/errs"
)

// ServedEntityInput is one served entity of an endpoint config (Databricks
// ServedEntityInput; legacy served_models use model_name/model_version).
type ServedEntityInput struct {
	Name          string `json:"name,omitempty"`
	EntityName    string `json:"entity_name,omitempty"`
	EntityVersion string `json:"entity_version,omitempty"`
	// EntityAlias is a Lakebox extension: serve the version an alias points
	// at (re-resolved when the alias moves). "model@alias" in EntityName or
	// "@alias" in EntityVersion work too.
	EntityAlias               string            `json:"entity_alias,omitempty"`
	ModelName                 string            `json:"model_name,omitempty"`
	ModelVersion              string            `json:"model_version,omitempty"`
	WorkloadSize              string            `json:"workload_size,omitempty"`
	WorkloadType              string            `json:"workload_type,omitempty"`
	ScaleToZeroEnabled        bool              `json:"scale_to_zero_enabled"`
	MinProvisionedConcurrency int               `json:"min_provisioned_concurrency,omitempty"`
	MaxProvisionedConcurrency int               `json:"max_provisioned_concurrency,omitempty"`
	EnvironmentVars           map[string]string `json:"environment_vars,omitempty"`
	ExternalModel             *ExternalModel    `json:"external_model,omitempty"`
	MinReplicas               *int              `json:"min_replicas,omitempty"` // Lakebox extension
	MaxReplicas               *int              `json:"max_replicas,omitempty"` // Lakebox extension
	ScaleToZeroIdleSeconds    int               `json:"scale_to_zero_idle_seconds,omitempty"`
}

// ExternalModel points a served entity at an external MLflow scoring
// server (custom provider URL).
type ExternalModel struct {
	Name                 string `json:"name,omitempty"`
	Provider             string `json:"provider,omitempty"`
	Task                 string `json:"task,omitempty"`
	CustomProviderConfig *struct {
		CustomProviderURL string `json:"custom_provider_url"`
	} `json:"custom_provider_config,omitempty"`
}

// Route sends a percentage of traffic to a served entity.
type Route struct {
	ServedEntityName  string `json:"served_entity_name,omitempty"`
	ServedModelName   string `json:"served_model_name,omitempty"`
	TrafficPercentage int    `json:"traffic_percentage"`
}

// TrafficConfig is the traffic split.
type TrafficConfig struct {
	Routes []Route `json:"routes"`
}

// AutoCaptureConfig names the inference table.
type AutoCaptureConfig struct {
	CatalogName     string `json:"catalog_name,omitempty"`
	SchemaName      string `json:"schema_name,omitempty"`
	TableNamePrefix string `json:"table_name_prefix,omitempty"`
	Enabled         *bool  `json:"enabled,omitempty"`
	State           *struct {
		PayloadTable *PayloadTable `json:"payload_table,omitempty"`
	} `json:"state,omitempty"`
}

// PayloadTable is the state of an inference table.
type PayloadTable struct {
	Name          string `json:"name"`
	Status        string `json:"status,omitempty"`
	StatusMessage string `json:"status_message,omitempty"`
}

// On reports whether capture is enabled.
func (a *AutoCaptureConfig) On() bool {
	return a != nil && (a.Enabled == nil || *a.Enabled)
}

// TableName returns catalog.schema.<prefix>_payload.
func (a *AutoCaptureConfig) TableName(endpoint string) string {
	prefix := a.TableNamePrefix
	if prefix == "" {
		prefix = endpoint
	}
	return a.CatalogName + "." + a.SchemaName + "." + prefix + "_payload"
}

// RateLimit is a legacy endpoint rate limit.
type RateLimit struct {
	Calls         int    `json:"calls"`
	Key           string `json:"key,omitempty"`            // "endpoint" (default) or "user"
	RenewalPeriod string `json:"renewal_period,omitempty"` // "minute"
}

// EndpointConfig is EndpointCoreConfigInput.
type EndpointConfig struct {
	Name              string              `json:"name,omitempty"`
	ServedEntities    []ServedEntityInput `json:"served_entities,omitempty"`
	ServedModels      []ServedEntityInput `json:"served_models,omitempty"`
	TrafficConfig     *TrafficConfig      `json:"traffic_config,omitempty"`
	AutoCaptureConfig *AutoCaptureConfig  `json:"auto_capture_config,omitempty"`
	// RequestTimeoutSeconds bounds one invocation (Lakebox; default 60).
	RequestTimeoutSeconds int `json:"request_timeout_seconds,omitempty"`
}

// Tag is an endpoint tag.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value,omitempty"`
}

// CreateRequest is CreateServingEndpoint.
type CreateRequest struct {
	Name        string          `json:"name"`
	Config      *EndpointConfig `json:"config"`
	Tags        []Tag           `json:"tags,omitempty"`
	RateLimits  []RateLimit     `json:"rate_limits,omitempty"`
	Description string          `json:"description,omitempty"`
}

var endpointNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_\-]{0,62}$`)

func invalid(format string, args ...any) error {
	return errs.E(errs.Invalid, "INVALID_PARAMETER_VALUE", format, args...)
}

// ValidateName checks an endpoint name.
func ValidateName(name string) error {
	if !endpointNameRE.MatchString(name) {
		return invalid("endpoint name %q is invalid: use 1-63 letters, digits, '-' and '_', starting with a letter or digit", name)
	}
	return nil
}

// normalize folds legacy fields and alias spellings into canonical ones
// and fills default entity names and routes.
func (c *EndpointConfig) normalize() {
	if len(c.ServedEntities) == 0 && len(c.ServedModels) > 0 {
		c.ServedEntities = c.ServedModels
	}
	c.ServedModels = nil
	for i := range c.ServedEntities {
		e := &c.ServedEntities[i]
		if e.EntityName == "" {
			e.EntityName, e.ModelName = e.ModelName, ""
		}
		if e.EntityVersion == "" {
			e.EntityVersion, e.ModelVersion = e.ModelVersion, ""
		}
		e.ModelName, e.ModelVersion = "", ""
		if n, a, ok := strings.Cut(e.EntityName, "@"); ok {
			e.EntityName, e.EntityAlias = n, a
		}
		if a, ok := strings.CutPrefix(e.EntityVersion, "@"); ok {
			e.EntityVersion, e.EntityAlias = "", a
		}
		if e.Name == "" && e.EntityName != "" {
			last := e.EntityName[strings.LastIndexByte(e.EntityName, '.')+1:]
			if e.EntityAlias != "" {
				e.Name = last + "-" + e.EntityAlias
			} else {
				e.Name = last + "-" + e.EntityVersion
			}
		}
		if e.ExternalModel != nil && e.Name == "" {
			e.Name = e.ExternalModel.Name
		}
	}
	if c.TrafficConfig != nil {
		for i := range c.TrafficConfig.Routes {
			r := &c.TrafficConfig.Routes[i]
			if r.ServedEntityName == "" {
				r.ServedEntityName, r.ServedModelName = r.ServedModelName, ""
			}
			r.ServedModelName = ""
		}
	}
	if c.TrafficConfig == nil && len(c.ServedEntities) == 1 {
		c.TrafficConfig = &TrafficConfig{Routes: []Route{{ServedEntityName: c.ServedEntities[0].Name, TrafficPercentage: 100}}}
	}
}

// Validate normalizes c and checks it. Errors: errs.Invalid naming the
// offending field.
func (c *EndpointConfig) Validate() error {
	c.normalize()
	if len(c.ServedEntities) == 0 {
		return invalid("config.served_entities must name at least one served entity")
	}
	names := map[string]bool{}
	for i, e := range c.ServedEntities {
		where := fmt.Sprintf("served_entities[%d]", i)
		if e.Name == "" {
			return invalid("%s.name is required", where)
		}
		if names[e.Name] {
			return invalid("%s.name %q is used twice; served entity names are unique within an endpoint", where, e.Name)
		}
		names[e.Name] = true
		if e.ExternalModel != nil {
			if e.ExternalModel.CustomProviderConfig == nil || e.ExternalModel.CustomProviderConfig.CustomProviderURL == "" {
				return invalid("%s.external_model needs custom_provider_config.custom_provider_url (an MLflow scoring server)", where)
			}
			continue
		}
		if !modelNameRE.MatchString(e.EntityName) {
			return invalid("%s.entity_name %q is not a three-level model name catalog.schema.model", where, e.EntityName)
		}
		if (e.EntityVersion == "") == (e.EntityAlias == "") {
			return invalid("%s needs exactly one of entity_version or an alias (entity_name \"%s@champion\")", where, e.EntityName)
		}
		switch e.WorkloadSize {
		case "", "Small", "Medium", "Large":
		default:
			return invalid("%s.workload_size %q is invalid; accepted: Small, Medium, Large", where, e.WorkloadSize)
		}
		if lo, hi := e.replicaBounds(); lo > hi || hi < 1 {
			return invalid("%s: min replicas %d exceed max replicas %d", where, lo, hi)
		}
	}
	if c.TrafficConfig == nil || len(c.TrafficConfig.Routes) == 0 {
		return invalid("config.traffic_config.routes is required when there is more than one served entity")
	}
	sum := 0
	seen := map[string]bool{}
	for i, r := range c.TrafficConfig.Routes {
		if !names[r.ServedEntityName] {
			return invalid("traffic_config.routes[%d].served_entity_name %q is not a served entity of this config", i, r.ServedEntityName)
		}
		if seen[r.ServedEntityName] {
			return invalid("traffic_config.routes[%d] routes %q a second time", i, r.ServedEntityName)
		}
		seen[r.ServedEntityName] = true
		if r.TrafficPercentage < 0 || r.TrafficPercentage > 100 {
			return invalid("traffic_config.routes[%d].traffic_percentage %d must be between 0 and 100", i, r.TrafficPercentage)
		}
		sum += r.TrafficPercentage
	}
	if sum != 100 {
		return invalid("traffic_config route percentages sum to %d; they must sum to 100", sum)
	}
	if a := c.AutoCaptureConfig; a != nil && a.On() {
		if a.CatalogName == "" || a.SchemaName == "" {
			return invalid("auto_capture_config needs catalog_name and schema_name")
		}
	}
	if c.RequestTimeoutSeconds < 0 || c.RequestTimeoutSeconds > 3600 {
		return invalid("request_timeout_seconds must be between 1 and 3600")
	}
	return nil
}

// replicaBounds maps the workload settings to min and max replicas:
// explicit min/max_replicas win; else provisioned concurrency / 4; else the
// workload size (Small 1, Medium 4, Large 16 replicas at most). The minimum
// is 0 with scale to zero, else 1.
func (e *ServedEntityInput) replicaBounds() (lo, hi int) {
	hi = 1
	switch e.WorkloadSize {
	case "Medium":
		hi = 4
	case "Large":
		hi = 16
	}
	lo = 1
	if e.ScaleToZeroEnabled {
		lo = 0
	}
	if e.MaxProvisionedConcurrency > 0 {
		hi = (e.MaxProvisionedConcurrency + 3) / 4
		lo = (e.MinProvisionedConcurrency + 3) / 4
	}
	if e.MinReplicas != nil {
		lo = *e.MinReplicas
	}
	if e.MaxReplicas != nil {
		hi = *e.MaxReplicas
	}
	return lo, hi
}

// The endpoint states.
const (
	StateReady         = "READY"
	StateNotReady      = "NOT_READY"
	UpdateNotUpdating  = "NOT_UPDATING"
	UpdateInProgress   = "IN_PROGRESS"
	UpdateFailed       = "UPDATE_FAILED"
	DeploymentCreating = "DEPLOYMENT_CREATING"
	DeploymentReady    = "DEPLOYMENT_READY"
	DeploymentFailed   = "DEPLOYMENT_FAILED"
)

// Endpoint is the stored record of an endpoint.
type Endpoint struct {
	ID            string
	Name          string
	Creator       string
	CreatedMs     int64
	UpdatedMs     int64
	ConfigVersion int64
	Config        EndpointConfig
	Tags          []Tag
	RateLimits    []RateLimit
	Description   string
	// ConfigUpdate is the state of the last rollout, as recorded in the
	// store by the replica that ran it.
	ConfigUpdate string
}

// Event is one endpoint event.
type Event struct {
	TimestampMs int64  `json:"timestamp"`
	Type        string `json:"event_type"`
	Message     string `json:"message"`
	ServedName  string `json:"served_entity_name,omitempty"`
}

package serving

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"

	"github.com/lakebox/lakebox/internal/errs"
)

// MLmodel is the part of an MLflow model's MLmodel file that serving uses.
type MLmodel struct {
	ArtifactPath string                    `yaml:"artifact_path" json:"artifact_path,omitempty"`
	Flavors      map[string]map[string]any `yaml:"flavors" json:"flavors"`
	Signature    *Signature                `yaml:"-" json:"signature,omitempty"`
	RawSignature struct {
		Inputs  string `yaml:"inputs"`
		Outputs string `yaml:"outputs"`
		Params  string `yaml:"params"`
	} `yaml:"signature" json:"-"`
}

// Signature is a model's input schema (MLflow ColSpec or TensorSpec list).
type Signature struct {
	Inputs  []ColSpec `json:"inputs,omitempty"`
	Outputs []ColSpec `json:"outputs,omitempty"`
	Params  []Param   `json:"params,omitempty"`
}

// ColSpec is one input or output: a named column of an MLflow type, or a
// tensor (Type "tensor").
type ColSpec struct {
	Name     string `json:"name,omitempty"`
	Type     string `json:"type"`
	Required *bool  `json:"required,omitempty"`
	Tensor   *struct {
		DType string `json:"dtype"`
		Shape []int  `json:"shape"`
	} `json:"tensor-spec,omitempty"`
}

// Param is one entry of a params schema.
type Param struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Default any    `json:"default"`
}

// IsRequired reports whether the column must be present.
func (c ColSpec) IsRequired() bool { return c.Required == nil || *c.Required }

// Flavor returns the named flavor's configuration and whether it exists.
func (m *MLmodel) Flavor(name string) (map[string]any, bool) {
	f, ok := m.Flavors[name]
	return f, ok
}

// FlavorString returns a string field of a flavor ("" when absent).
func (m *MLmodel) FlavorString(flavor, key string) string {
	f := m.Flavors[flavor]
	if f == nil {
		return ""
	}
	s, _ := f[key].(string)
	return s
}

// ParseMLmodel parses the text of an MLmodel file.
// Errors: errs.Invalid INVALID_MLMODEL.
func ParseMLmodel(b []byte) (*MLmodel, error) {
	var m MLmodel
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, errs.Wrap(errs.Invalid, "INVALID_MLMODEL", err, "MLmodel is not valid YAML: %v", err)
	}
	if len(m.Flavors) == 0 {
		return nil, errs.E(errs.Invalid, "INVALID_MLMODEL", "MLmodel declares no flavors")
	}
	if m.RawSignature.Inputs != "" {
		sig := &Signature{}
		if err := json.Unmarshal([]byte(m.RawSignature.Inputs), &sig.Inputs); err != nil {
			return nil, errs.E(errs.Invalid, "INVALID_MLMODEL", "MLmodel signature inputs are not a JSON list of column specs: %v", err)
		}
		if m.RawSignature.Outputs != "" {
			_ = json.Unmarshal([]byte(m.RawSignature.Outputs), &sig.Outputs)
		}
		if p := m.RawSignature.Params; p != "" && p != "null" {
			_ = json.Unmarshal([]byte(p), &sig.Params)
		}
		m.Signature = sig
	}
	return &m, nil
}

// LoadMLmodel reads dir/MLmodel.
// Errors: errs.NotFound MODEL_FILE_MISSING, errs.Invalid INVALID_MLMODEL.
func LoadMLmodel(dir string) (*MLmodel, error) {
	b, err := os.ReadFile(filepath.Join(dir, "MLmodel"))
	if err != nil {
		return nil, errs.Wrap(errs.NotFound, "MODEL_FILE_MISSING", err, "model directory %s has no MLmodel file", dir)
	}
	return ParseMLmodel(b)
}

// columnNames returns the signature's column names ("" for tensor specs).
func (s *Signature) columnNames() []string {
	if s == nil {
		return nil
	}
	var out []string
	for _, c := range s.Inputs {
		if c.Name == "" || c.Type == "tensor" {
			return nil
		}
		out = append(out, c.Name)
	}
	return out
}

func (c ColSpec) String() string { return fmt.Sprintf("%s (%s)", c.Name, c.Type) }

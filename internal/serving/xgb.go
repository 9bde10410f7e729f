package serving

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"

	"github.com/lakebox/lakebox/internal/errs"
)

// XGBModel is an XGBoost gbtree model loaded from XGBoost's JSON model
// format, evaluated in pure Go with XGBoost's float32 arithmetic.
type XGBModel struct {
	objective string
	numClass  int
	numFeat   int
	baseScore float32 // margin space
	trees     []xgbTree
	treeClass []int
}

type xgbTree struct {
	left, right []int32
	feat        []int32
	cond        []float32
	defLeft     []bool
}

type xgbJSON struct {
	Learner struct {
		LearnerModelParam struct {
			BaseScore  string `json:"base_score"`
			NumClass   string `json:"num_class"`
			NumFeature string `json:"num_feature"`
		} `json:"learner_model_param"`
		Objective struct {
			Name string `json:"name"`
		} `json:"objective"`
		GradientBooster struct {
			Name  string `json:"name"`
			Model struct {
				TreeInfo []int `json:"tree_info"`
				Trees    []struct {
					Left      []int32   `json:"left_children"`
					Right     []int32   `json:"right_children"`
					Split     []int32   `json:"split_indices"`
					Cond      []float32 `json:"split_conditions"`
					DefLeft   []int     `json:"default_left"`
					SplitType []int     `json:"split_type"`
				} `json:"trees"`
			} `json:"model"`
		} `json:"gradient_booster"`
	} `json:"learner"`
}

// LoadXGBoost reads an XGBoost JSON model file.
// Errors: errs.Invalid INVALID_MODEL for an unsupported or malformed model.
func LoadXGBoost(path string) (*XGBModel, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errs.Wrap(errs.NotFound, "MODEL_FILE_MISSING", err, "cannot read XGBoost model %s", path)
	}
	var j xgbJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, errs.E(errs.Invalid, "INVALID_MODEL", "%s is not an XGBoost JSON model (save it with save_model('model.json')): %v", path, err)
	}
	l := j.Learner
	if l.GradientBooster.Name != "gbtree" {
		return nil, errs.E(errs.Invalid, "INVALID_MODEL", "XGBoost booster %q is not supported: only gbtree", l.GradientBooster.Name)
	}
	m := &XGBModel{objective: l.Objective.Name}
	switch m.objective {
	case "binary:logistic", "reg:squarederror", "reg:linear", "multi:softprob", "multi:softmax", "reg:logistic", "binary:logitraw":
	default:
		return nil, errs.E(errs.Invalid, "INVALID_MODEL", "XGBoost objective %q is not supported: binary:logistic, binary:logitraw, reg:logistic, reg:squarederror, multi:softprob, multi:softmax", m.objective)
	}
	bs, err := strconv.ParseFloat(l.LearnerModelParam.BaseScore, 32)
	if err != nil {
		return nil, errs.E(errs.Invalid, "INVALID_MODEL", "XGBoost base_score %q is not a number", l.LearnerModelParam.BaseScore)
	}
	// base_score is stored in output space; the sum of leaves is in margin
	// space: a logistic objective's base_score is a probability.
	if m.objective == "binary:logistic" || m.objective == "reg:logistic" {
		m.baseScore = float32(-math.Log(1/bs - 1))
	} else {
		m.baseScore = float32(bs)
	}
	m.numClass, _ = strconv.Atoi(l.LearnerModelParam.NumClass)
	m.numFeat, _ = strconv.Atoi(l.LearnerModelParam.NumFeature)
	trees := l.GradientBooster.Model.Trees
	if len(l.GradientBooster.Model.TreeInfo) != len(trees) {
		return nil, errs.E(errs.Invalid, "INVALID_MODEL", "XGBoost model has %d trees but %d tree_info entries", len(trees), len(l.GradientBooster.Model.TreeInfo))
	}
	m.treeClass = l.GradientBooster.Model.TreeInfo
	for ti, t := range trees {
		n := len(t.Left)
		if len(t.Right) != n || len(t.Split) != n || len(t.Cond) != n || len(t.DefLeft) != n {
			return nil, errs.E(errs.Invalid, "INVALID_MODEL", "XGBoost tree %d has arrays of different lengths", ti)
		}
		for _, st := range t.SplitType {
			if st != 0 {
				return nil, errs.E(errs.Invalid, "INVALID_MODEL", "XGBoost tree %d has categorical splits, which are not supported", ti)
			}
		}
		xt := xgbTree{left: t.Left, right: t.Right, feat: t.Split, cond: t.Cond, defLeft: make([]bool, n)}
		for i, d := range t.DefLeft {
			xt.defLeft[i] = d != 0
			if t.Left[i] >= int32(n) || t.Right[i] >= int32(n) {
				return nil, errs.E(errs.Invalid, "INVALID_MODEL", "XGBoost tree %d has a child index out of range", ti)
			}
			if t.Left[i] != -1 && int(t.Split[i]) >= m.numFeat && m.numFeat > 0 {
				return nil, errs.E(errs.Invalid, "INVALID_MODEL", "XGBoost tree %d splits on feature %d of %d", ti, t.Split[i], m.numFeat)
			}
		}
		m.trees = append(m.trees, xt)
	}
	return m, nil
}

// NumFeatures returns the number of input features.
func (m *XGBModel) NumFeatures() int { return m.numFeat }

func (t *xgbTree) leaf(x []float32) float32 {
	i := int32(0)
	for t.left[i] != -1 {
		v := x[t.feat[i]]
		switch {
		case v != v: // NaN: missing
			if t.defLeft[i] {
				i = t.left[i]
			} else {
				i = t.right[i]
			}
		case v < t.cond[i]:
			i = t.left[i]
		default:
			i = t.right[i]
		}
	}
	return t.cond[i]
}

// PredictRow returns the prediction for one row of features (NaN = missing)
// as XGBoost's Booster.predict does: a probability for binary:logistic,
// the value for regression, a class-probability vector for multi:softprob.
func (m *XGBModel) PredictRow(x []float32, out []float64) []float64 {
	k := max(m.numClass, 1)
	var margins [64]float32
	mg := margins[:0]
	if k > len(margins) {
		mg = make([]float32, 0, k)
	}
	for range k {
		mg = append(mg, m.baseScore)
	}
	for i := range m.trees {
		c := 0
		if k > 1 {
			c = m.treeClass[i]
		}
		mg[c] += m.trees[i].leaf(x)
	}
	switch m.objective {
	case "binary:logistic", "reg:logistic":
		return append(out, float64(sigmoid32(mg[0])))
	case "multi:softprob":
		mx := mg[0]
		for _, v := range mg {
			mx = max(mx, v)
		}
		var sum float32
		for i, v := range mg {
			mg[i] = float32(math.Exp(float64(v - mx)))
			sum += mg[i]
		}
		for _, v := range mg {
			out = append(out, float64(v/sum))
		}
		return out
	case "multi:softmax":
		best := 0
		for i, v := range mg {
			if v > mg[best] {
				best = i
			}
		}
		return append(out, float64(best))
	default:
		return append(out, float64(mg[0]))
	}
}

func sigmoid32(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }

// Predict scores a matrix of rows × NumFeatures float32 values.
func (m *XGBModel) Predict(x []float32) []any {
	n := len(x) / max(m.numFeat, 1)
	out := make([]any, n)
	buf := make([]float64, 0, max(m.numClass, 1))
	for r := range n {
		p := m.PredictRow(x[r*m.numFeat:(r+1)*m.numFeat], buf[:0])
		if len(p) == 1 {
			out[r] = p[0]
		} else {
			v := make([]any, len(p))
			for i := range p {
				v[i] = p[i]
			}
			out[r] = v
		}
	}
	return out
}

func (m *XGBModel) String() string {
	return fmt.Sprintf("xgboost(%s, %d trees, %d features)", m.objective, len(m.trees), m.numFeat)
}

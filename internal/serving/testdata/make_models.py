"""Builds the MLflow model directories the serving tests and benchmarks use.

Usage: /usr/bin/python3 make_models.py OUTDIR

Writes OUTDIR/<name>/ (MLmodel + model file) for: lr (sklearn
LogisticRegression, 20 features), rf (sklearn RandomForest, 100 trees),
lr_v2 (a second LogisticRegression with other coefficients), onnx_lr (the
lr coefficients as an ONNX MatMul+Add+Sigmoid graph), xgb_bin, xgb_reg and
xgb_multi (XGBoost JSON models), and OUTDIR/expected.json with inputs and
the predictions of each model computed here, for parity checks.
"""
import json
import os
import pickle
import sys

import numpy as np

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.RandomState(7)
NF = 20
cols = ["f%d" % i for i in range(NF)]
X = rng.normal(size=(400, NF))
y = (X[:, 0] + 0.5 * X[:, 1] - X[:, 2] + rng.normal(scale=0.5, size=400) > 0).astype(int)
Xt = rng.normal(size=(25, NF))
expected = {"columns": cols, "X": Xt.tolist()}

def signature(inputs, outputs):
    return {"inputs": json.dumps(inputs), "outputs": json.dumps(outputs), "params": None}

def colsig(dtype="double"):
    return [{"type": dtype, "name": c, "required": True} for c in cols]

def write_mlmodel(d, flavors, sig):
    # MLmodel is YAML; JSON is a subset of YAML, so json.dumps writes it.
    with open(os.path.join(d, "MLmodel"), "w") as f:
        json.dump({"artifact_path": "model", "flavors": flavors, "signature": sig,
                   "mlflow_version": "2.x-lakebox-test"}, f, indent=1)

def sklearn_model(name, model, outputs):
    import pandas as pd
    import sklearn
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    model.fit(pd.DataFrame(X, columns=cols), y)
    with open(os.path.join(d, "model.pkl"), "wb") as f:
        pickle.dump(model, f)
    write_mlmodel(d, {
        "python_function": {"loader_module": "mlflow.sklearn", "model_path": "model.pkl",
                            "predict_fn": "predict", "python_version": "%d.%d" % sys.version_info[:2]},
        "sklearn": {"pickled_model": "model.pkl", "serialization_format": "pickle",
                    "sklearn_version": sklearn.__version__},
    }, signature(colsig(), outputs))
    expected[name] = model.predict(pd.DataFrame(Xt, columns=cols)).tolist()
    return model

from sklearn.linear_model import LogisticRegression
from sklearn.ensemble import RandomForestClassifier

lr = sklearn_model("lr", LogisticRegression(max_iter=500), [{"type": "long"}])
sklearn_model("rf", RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=1), [{"type": "long"}])
y_saved = y.copy()
y = 1 - y
sklearn_model("lr_v2", LogisticRegression(max_iter=500, C=0.01), [{"type": "long"}])
y = y_saved

# ONNX: sigmoid(X @ W + b) with lr's coefficients.
import onnx
from onnx import TensorProto, helper, numpy_helper
W = lr.coef_.T.astype(np.float32)            # [20, 1]
b = lr.intercept_.astype(np.float32)         # [1]
graph = helper.make_graph(
    [helper.make_node("MatMul", ["input", "W"], ["z0"]),
     helper.make_node("Add", ["z0", "b"], ["z"]),
     helper.make_node("Sigmoid", ["z"], ["prob"])],
    "lr",
    [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, NF])],
    [helper.make_tensor_value_info("prob", TensorProto.FLOAT, [None, 1])],
    [numpy_helper.from_array(W, "W"), numpy_helper.from_array(b, "b")])
m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
m.ir_version = 8
onnx.checker.check_model(m)
d = os.path.join(out, "onnx_lr")
os.makedirs(d, exist_ok=True)
onnx.save(m, os.path.join(d, "model.onnx"))
write_mlmodel(d, {"onnx": {"data": "model.onnx", "onnx_version": onnx.__version__, "providers": ["CPUExecutionProvider"]},
                  "python_function": {"loader_module": "mlflow.onnx", "data": "model.onnx"}},
              signature(colsig(), [{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 1]}}]))
expected["onnx_lr"] = lr.predict_proba(Xt)[:, 1:2].tolist()

# XGBoost JSON models; the test matrix gets some missing values.
import xgboost as xgb
Xm = Xt.copy()
Xm[0, 0] = np.nan
Xm[3, 5] = np.nan
Xm[7, 1] = np.nan
expected["X_missing"] = [[None if np.isnan(v) else v for v in row] for row in Xm.tolist()]
yreg = X[:, 0] * 3 + X[:, 3] + rng.normal(size=400)
ymulti = np.digitize(X[:, 0] + X[:, 1], [-0.7, 0.7])
for name, obj, target, extra in [
        ("xgb_bin", "binary:logistic", y, {}),
        ("xgb_reg", "reg:squarederror", yreg, {}),
        ("xgb_multi", "multi:softprob", ymulti, {"num_class": 3})]:
    Xtr = X.copy()
    Xtr[rng.rand(*Xtr.shape) < 0.05] = np.nan
    dtrain = xgb.DMatrix(Xtr, label=target, feature_names=cols)
    params = {"objective": obj, "max_depth": 4, "eta": 0.3, "seed": 1}
    params.update(extra)
    bst = xgb.train(params, dtrain, num_boost_round=20)
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    bst.save_model(os.path.join(d, "model.json"))
    write_mlmodel(d, {"xgboost": {"data": "model.json", "model_class": "xgboost.core.Booster",
                                  "model_format": "json", "xgb_version": xgb.__version__},
                      "python_function": {"loader_module": "mlflow.xgboost", "data": "model.json"}},
                  signature(colsig(), [{"type": "double"}]))
    expected[name] = bst.predict(xgb.DMatrix(Xm, feature_names=cols)).tolist()

with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump(expected, f)
print("ok")

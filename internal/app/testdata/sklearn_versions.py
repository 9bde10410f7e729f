"""Trains two sklearn LogisticRegression models and writes each as an MLflow
model directory (MLmodel + model.pkl), for the registry-backed serving and
batch-scoring tests.

Usage: /usr/bin/python3 sklearn_versions.py OUTDIR

Writes OUTDIR/v1 (trained on y) and OUTDIR/v2 (trained on 1 - y, so its
predictions are the opposite of v1's), and OUTDIR/expected.json with test
inputs and both models' predictions computed here.
"""
import json
import os
import pickle
import sys

import numpy as np
import pandas as pd
import sklearn
from sklearn.linear_model import LogisticRegression

out = sys.argv[1]
rng = np.random.RandomState(11)
cols = ["f%d" % i for i in range(4)]
X = rng.normal(size=(300, 4))
y = (X[:, 0] - X[:, 1] + 0.5 * X[:, 2] > 0).astype(int)
Xt = rng.normal(size=(16, 4))
expected = {"columns": cols, "X": Xt.tolist()}
inputs = [{"type": "double", "name": c, "required": True} for c in cols]
for name, labels in (("v1", y), ("v2", 1 - y)):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    m = LogisticRegression(max_iter=500).fit(pd.DataFrame(X, columns=cols), labels)
    with open(os.path.join(d, "model.pkl"), "wb") as f:
        pickle.dump(m, f)
    mlmodel = {
        "artifact_path": "model",
        "flavors": {
            "python_function": {"loader_module": "mlflow.sklearn", "model_path": "model.pkl",
                                "predict_fn": "predict", "python_version": "%d.%d" % sys.version_info[:2]},
            "sklearn": {"pickled_model": "model.pkl", "serialization_format": "pickle",
                        "sklearn_version": sklearn.__version__},
        },
        "signature": {"inputs": json.dumps(inputs), "outputs": json.dumps([{"type": "long"}]), "params": None},
    }
    with open(os.path.join(d, "MLmodel"), "w") as f:
        json.dump(mlmodel, f, indent=1)  # JSON is YAML
    expected[name] = m.predict(pd.DataFrame(Xt, columns=cols)).tolist()
with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump(expected, f)

"""Train an sklearn model and drive Lakebox's MLflow REST API the way the
MLflow Python client does, with only the standard library (no mlflow
package): run, params, metrics, a dataset input naming a Lakebox table
version, an MLflow-format model directory (MLmodel, model.pkl, conda.yaml,
python_env.yaml, requirements.txt) uploaded as run artifacts through the
mlflow-artifacts proxy, an MLflow 3 logged model, registration, the
`champion` alias, and resolution of models:/<name>@champion back to the
artifacts, which are downloaded, unpickled and scored.

Env: MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN. Prints a JSON summary.
"""
import json
import os
import pickle
import platform
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import numpy as np
import sklearn
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

URI = os.environ["MLFLOW_TRACKING_URI"].rstrip("/")
TOKEN = os.environ["MLFLOW_TRACKING_TOKEN"]


def call(method, path, body=None, query=None, raw=None, api="/api/2.0/mlflow/"):
    url = URI + api + path
    if query:
        url += "?" + urllib.parse.urlencode(query, doseq=True)
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Authorization", "Bearer " + TOKEN)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req) as resp:
            payload = resp.read()
            if resp.headers.get("Content-Type", "").startswith("application/json"):
                return json.loads(payload or b"{}")
            return payload
    except urllib.error.HTTPError as e:
        err = json.loads(e.read() or b"{}")
        raise RuntimeError(f"{method} {path}: HTTP {e.code} {err}") from None


def expect_error(status, code, fn):
    try:
        fn()
    except RuntimeError as e:
        assert f"HTTP {status}" in str(e) and code in str(e), str(e)
        return
    raise AssertionError(f"expected HTTP {status} {code}")


def put_artifact(path, data):
    call("PUT", "artifacts/" + path, raw=data, api="/api/2.0/mlflow-artifacts/")


def model_files(model, signature_cols):
    py = platform.python_version()
    mlmodel = f"""artifact_path: model
flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.pkl
    predict_fn: predict
    python_version: {py}
  sklearn:
    code: null
    pickled_model: model.pkl
    serialization_format: pickle
    sklearn_version: {sklearn.__version__}
mlflow_version: 3.11.1
model_size_bytes: 0
signature:
  inputs: '{json.dumps([{"type": "double", "name": c, "required": True} for c in signature_cols])}'
  outputs: '[{{"type": "tensor", "tensor-spec": {{"dtype": "int64", "shape": [-1]}}}}]'
utc_time_created: '{time.strftime("%Y-%m-%d %H:%M:%S")}'
"""
    conda = f"""channels:
- conda-forge
dependencies:
- python={py}
- pip
- pip:
  - mlflow==3.11.1
  - scikit-learn=={sklearn.__version__}
  - numpy=={np.__version__}
name: mlflow-env
"""
    python_env = f"""python: {py}
build_dependencies:
- pip
dependencies:
- -r requirements.txt
"""
    requirements = f"mlflow==3.11.1\nscikit-learn=={sklearn.__version__}\nnumpy=={np.__version__}\n"
    return {
        "MLmodel": mlmodel.encode(),
        "model.pkl": pickle.dumps(model),
        "conda.yaml": conda.encode(),
        "python_env.yaml": python_env.encode(),
        "requirements.txt": requirements.encode(),
    }


def main():
    iris = load_iris()
    X_train, X_test, y_train, y_test = train_test_split(iris.data, iris.target, test_size=0.3, random_state=7)

    exp_id = call("POST", "experiments/create", {"name": f"iris-{int(time.time() * 1000)}"})["experiment_id"]
    now = int(time.time() * 1000)
    run = call("POST", "runs/create", {"experiment_id": exp_id, "run_name": "logreg", "start_time": now,
                                       "tags": [{"key": "mlflow.source.type", "value": "LOCAL"}]})["run"]
    run_id = run["info"]["run_id"]
    root = run["info"]["artifact_uri"]
    assert root == f"mlflow-artifacts:/{exp_id}/{run_id}/artifacts", root

    params = {"C": "1.0", "max_iter": "500", "solver": "lbfgs"}
    call("POST", "runs/log-batch", {"run_id": run_id, "params": [{"key": k, "value": v} for k, v in params.items()]})
    call("POST", "runs/log-inputs", {"run_id": run_id, "datasets": [{
        "tags": [{"key": "mlflow.data.context", "value": "training"}],
        "dataset": {"name": "iris", "digest": "d41d8cd9", "source_type": "delta",
                    "source": json.dumps({"delta_table_name": "main.ml.iris", "delta_table_version": 1}),
                    "schema": json.dumps({"mlflow_colspec": [{"type": "double", "name": n} for n in iris.feature_names]}),
                    "profile": json.dumps({"num_rows": len(X_train)})}}]})

    model = LogisticRegression(C=1.0, max_iter=500)
    for epoch in range(3):
        model.fit(X_train, y_train)
        acc = float(model.score(X_test, y_test))
        call("POST", "runs/log-metric", {"run_id": run_id, "run_uuid": run_id, "key": "accuracy", "value": acc,
                                         "timestamp": int(time.time() * 1000), "step": epoch})
    expect_error(400, "INVALID_PARAMETER_VALUE", lambda: call("POST", "runs/log-parameter", {"run_id": run_id, "key": "C", "value": "2.0"}))

    files = model_files(model, iris.feature_names)
    rel = root[len("mlflow-artifacts:/"):]
    for name, data in files.items():
        put_artifact(f"{rel}/model/{name}", data)
    expect_error(400, "INVALID_PARAMETER_VALUE", lambda: call("GET", "artifacts", query={"path": rel + "/../../x"}, api="/api/2.0/mlflow-artifacts/"))

    # the MLflow 3 path: a logged model with its own artifact root
    lm = call("POST", "logged-models", {"experiment_id": exp_id, "name": "model", "source_run_id": run_id, "model_type": "sklearn"})["model"]["info"]
    lm_rel = lm["artifact_uri"][len("mlflow-artifacts:/"):]
    for name, data in files.items():
        put_artifact(f"{lm_rel}/{name}", data)
    call("PATCH", f"logged-models/{lm['model_id']}", {"model_id": lm["model_id"], "status": "LOGGED_MODEL_READY"})
    call("POST", "runs/outputs", {"run_id": run_id, "models": [{"model_id": lm["model_id"], "step": 2}]})
    found = call("POST", "logged-models/search", {"experiment_ids": [exp_id], "filter": "name = 'model'"})
    assert found["models"][0]["info"]["model_id"] == lm["model_id"]

    name = "iris_classifier"
    rm = call("POST", "registered-models/create", {"name": name, "description": "iris logistic regression"})["registered_model"]
    assert rm["name"] == "main.default.iris_classifier", rm
    v1 = call("POST", "model-versions/create", {"name": name, "source": f"runs:/{run_id}/model", "run_id": run_id})["model_version"]
    v2 = call("POST", "model-versions/create", {"name": name, "source": f"models:/{lm['model_id']}", "run_id": run_id,
                                               "model_id": lm["model_id"]})["model_version"]
    assert v1["status"] == "READY" and v1["version"] == "1" and v2["version"] == "2", (v1, v2)
    call("PATCH", f"logged-models/{lm['model_id']}/tags", {"tags": [{"key": "mlflow.modelVersions",
                                                                     "value": json.dumps([{"name": rm["name"], "version": "2"}])}]})
    call("POST", "registered-models/alias", {"name": name, "alias": "champion", "version": "1"})
    expect_error(400, "INVALID_PARAMETER_VALUE", lambda: call("GET", "registered-models/alias", query={"name": name, "alias": "nope"}))

    # what mlflow.pyfunc.load_model("models:/iris_classifier@champion") resolves
    mv = call("GET", "registered-models/alias", query={"name": name, "alias": "champion"})["model_version"]
    assert mv["version"] == "1" and mv["aliases"] == ["champion"], mv
    lineage = [json.loads(t["value"]) for t in mv.get("tags", []) if t["key"] == "lakebox.lineage.tables"]
    assert lineage and lineage[0][0]["table"] == "main.ml.iris" and lineage[0][0]["version"] == 1, mv
    uri = call("GET", "model-versions/get-download-uri", query={"name": name, "version": mv["version"]})["artifact_uri"]
    assert uri == root + "/model", uri
    path = uri[len("mlflow-artifacts:/"):]
    listing = call("GET", "artifacts", query={"path": path}, api="/api/2.0/mlflow-artifacts/")
    listed = sorted(f["path"] for f in listing["files"])
    assert listed == sorted(files), listed
    mlmodel = call("GET", "artifacts/" + path + "/MLmodel", api="/api/2.0/mlflow-artifacts/")
    assert b"loader_module: mlflow.sklearn" in mlmodel
    loaded = pickle.loads(call("GET", "artifacts/" + path + "/model.pkl", api="/api/2.0/mlflow-artifacts/"))
    acc = float((loaded.predict(X_test) == y_test).mean())
    assert acc >= 0.9, acc

    # models:/name@alias resolved server-side (Lakebox extension) after moving the alias to v2
    call("POST", "registered-models/alias", {"name": name, "alias": "champion", "version": "2"})
    resolved = call("GET", "resolve", query={"uri": f"models:/{name}@champion"}, api="/api/2.0/mlflow-artifacts/")
    assert resolved["artifact_uri"] == lm["artifact_uri"], resolved
    loaded2 = pickle.loads(call("GET", "artifacts/" + resolved["path"] + "/model.pkl", api="/api/2.0/mlflow-artifacts/"))
    assert float((loaded2.predict(X_test) == y_test).mean()) >= 0.9

    call("POST", "runs/update", {"run_id": run_id, "run_uuid": run_id, "status": "FINISHED", "end_time": int(time.time() * 1000)})
    got = call("GET", "runs/get", query={"run_id": run_id, "run_uuid": run_id})["run"]
    metrics = {m["key"]: m["value"] for m in got["data"]["metrics"]}
    print(json.dumps({"experiment_id": exp_id, "run_id": run_id, "accuracy": metrics["accuracy"], "model": rm["name"],
                      "champion_uri": uri, "served_accuracy": acc, "lineage": lineage[0],
                      "sklearn": sklearn.__version__, "python": platform.python_version()}))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # one line for the Go test's failure message
        print("FAIL", repr(e), file=sys.stderr)
        raise

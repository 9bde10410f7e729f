# Lakebox Python model worker: loads one MLflow model and answers requests
# framed as [4-byte big-endian length][JSON] on stdin/stdout. Anything the
# model prints goes to stderr (the endpoint logs).
import json
import math
import os
import struct
import sys
import traceback

proto_out = os.fdopen(os.dup(1), "wb")
os.dup2(2, 1)
sys.stdout = sys.stderr
proto_in = sys.stdin.buffer

model = None
predict_fn = None
# fast: None = not decided yet; True = the model takes a float ndarray in
# place of a DataFrame with its feature names (checked on the first call
# against the DataFrame answer); False = always a DataFrame.
fast = False


def read_msg():
    hdr = proto_in.read(4)
    if len(hdr) < 4:
        return None
    (n,) = struct.unpack(">I", hdr)
    return json.loads(proto_in.read(n))


def write_msg(obj):
    b = json.dumps(obj, default=jsonable, allow_nan=False).encode()
    proto_out.write(struct.pack(">I", len(b)) + b)
    proto_out.flush()


def clean(x):
    if isinstance(x, float) and (math.isnan(x) or math.isinf(x)):
        return None
    if isinstance(x, list):
        return [clean(v) for v in x]
    if isinstance(x, dict):
        return {str(k): clean(v) for k, v in x.items()}
    return x


def jsonable(o):
    import numpy as np
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return clean(o.tolist())
    raise TypeError("not JSON serializable: %r" % type(o))


def to_output(res):
    try:
        import pandas as pd
        if isinstance(res, pd.DataFrame):
            return clean(json.loads(res.to_json(orient="records")))
        if isinstance(res, pd.Series):
            return clean(json.loads(res.to_json(orient="values")))
    except ImportError:
        pass
    if hasattr(res, "tolist"):
        return clean(res.tolist())
    return clean(res)


def load(msg):
    global model, predict_fn
    for k, v in (msg.get("env") or {}).items():
        os.environ[k] = v
    d = msg["dir"]
    if msg.get("loader") == "pyfunc":
        try:
            import mlflow.pyfunc
            model = mlflow.pyfunc.load_model(d)
            predict_fn = lambda X, params: model.predict(X, params=params) if params else model.predict(X)
            return "mlflow.pyfunc"
        except ImportError:
            pass
    path = os.path.join(d, msg["path"])
    with open(path, "rb") as f:
        if msg.get("serialization") == "cloudpickle":
            import cloudpickle
            model = cloudpickle.load(f)
        else:
            import pickle
            model = pickle.load(f)
    fn = getattr(model, msg.get("method") or "predict")
    predict_fn = lambda X, params: fn(X)
    global fast
    # Plain estimators fitted on a DataFrame validate the names and then use
    # the values: building the DataFrame and checking it costs ~10x the
    # predict of a linear model. Pipelines may select columns by name.
    fast = None if (hasattr(model, "feature_names_in_") and not hasattr(model, "steps")
                    and not hasattr(model, "transformers")) else False
    return "pickle"


def same(a, b):
    try:
        import numpy as np
        return np.array_equal(np.asarray(a), np.asarray(b))
    except Exception:
        return False


def predict(msg):
    global fast
    cols = msg.get("columns")
    data = msg.get("data")
    params = msg.get("params")
    if cols and fast is not False and not params and list(model.feature_names_in_) == cols:
        import numpy as np
        try:
            A = np.asarray(data, dtype=float)
        except (TypeError, ValueError):
            A = None
        if A is not None and A.ndim == 2:
            try:
                res = predict_fn(A, None)
                if fast is None:
                    import pandas as pd
                    fast = same(res, predict_fn(pd.DataFrame(data, columns=cols), None))
            except Exception:
                res, fast = None, False  # the DataFrame path answers (or fails) below
            if fast:
                return to_output(res)
    if cols:
        import pandas as pd
        X = pd.DataFrame(data, columns=cols)
    else:
        import numpy as np
        X = np.array(data, dtype=float)
    return to_output(predict_fn(X, msg.get("params")))


def main():
    import warnings
    warnings.filterwarnings("ignore", message="X does not have valid feature names")
    while True:
        msg = read_msg()
        if msg is None:
            return
        op = msg.get("op")
        try:
            if op == "ping":
                write_msg({"ok": True})
            elif op == "load":
                write_msg({"ok": True, "loader": load(msg), "pid": os.getpid()})
            elif op == "predict":
                write_msg({"ok": True, "predictions": predict(msg)})
            else:
                write_msg({"ok": False, "error": "unknown op %r" % op})
        except (ValueError, KeyError, TypeError) as e:
            traceback.print_exc()
            write_msg({"ok": False, "kind": "invalid", "error": "%s: %s" % (type(e).__name__, e)})
        except Exception as e:
            traceback.print_exc()
            write_msg({"ok": False, "error": "%s: %s" % (type(e).__name__, e)})


main()

// Drives Lakebox's MLflow API with the third-party npm "mlflow" client
// (Yuhsak/mlflow 2.0.7) and plain fetch for what it lacks (artifact upload).
// Env: MLFLOW_TRACKING_URI, LAKEBOX_TOKEN. Exits non-zero on the first
// failed check. Endpoints this client cannot reach are listed at the end.
'use strict'
const assert = require('assert')
const MLflow = require('mlflow')
const fetch = require('isomorphic-unfetch')

const endpoint = process.env.MLFLOW_TRACKING_URI
const token = process.env.LAKEBOX_TOKEN
const headers = { Authorization: `Bearer ${token}` }
const { Experiments, Runs, Metrics, Artifacts } = new MLflow({ endpoint, headers })

// the client logs every POST body; keep the output readable
const log = console.log
console.log = () => {}
let checks = 0
const ok = (cond, what) => { assert.ok(cond, what); checks++ }

async function expectError (p, status, code) {
  try {
    await p
  } catch (e) {
    const m = /({.*})/.exec(e.message)
    const info = JSON.parse(m[1])
    ok(info.status === status, `status ${info.status} = ${status}: ${e.message}`)
    ok(info.data && info.data.error_code === code, `error_code ${code}: ${e.message}`)
    return
  }
  throw new Error(`expected HTTP ${status} ${code}`)
}

;(async () => {
  const name = `npm-client-${Date.now()}`
  const { experiment_id } = await Experiments.create({ name })
  ok(/^\d+$/.test(experiment_id), 'experiment id is decimal')
  const { experiment } = await Experiments.get({ experiment_id })
  ok(experiment.name === name, 'get experiment')
  ok(experiment.artifact_location === `mlflow-artifacts:/${experiment_id}`, 'artifact location')
  const { experiments } = await Experiments.list()
  ok(experiments.some(e => e.experiment_id === '0' && e.name === 'Default'), 'legacy list has Default')
  await Experiments.update({ experiment_id, new_name: name + '-renamed' })
  ok((await Experiments.get({ experiment_id })).experiment.name === name + '-renamed', 'rename')
  await expectError(Experiments.create({ name: name + '-renamed' }), 400, 'RESOURCE_ALREADY_EXISTS')
  await expectError(Experiments.get({ experiment_id: '987654' }), 404, 'RESOURCE_DOES_NOT_EXIST')

  const start = Date.now()
  const { run } = await Runs.create({ experiment_id, start_time: start, tags: [{ key: 'team', value: 'js' }] })
  const run_id = run.info.run_id
  ok(run.info.status === 'RUNNING' && run.info.run_uuid === run_id, 'create run')
  for (let step = 0; step < 5; step++) {
    await Runs.logMetric({ run_id, key: 'loss', value: 1 / (step + 1), timestamp: start + step, step })
  }
  await Runs.logParameter({ run_id, key: 'lr', value: '0.01' })
  await Runs.logParameter({ run_id, key: 'lr', value: '0.01' })
  await expectError(Runs.logParameter({ run_id, key: 'lr', value: '0.02' }), 400, 'INVALID_PARAMETER_VALUE')
  await Runs.setTag({ run_id, key: 'stage', value: 'dev' })
  await Runs.logBatch({
    run_id,
    metrics: [{ key: 'acc', value: 0.91, timestamp: start, step: 0 }, { key: 'acc', value: 0.95, timestamp: start + 1, step: 1 }],
    params: [{ key: 'model', value: 'mlp' }],
    tags: [{ key: 'mlflow.note.content', value: 'from node' }]
  })
  const got = (await Runs.get({ run_id })).run
  const metrics = Object.fromEntries(got.data.metrics.map(m => [m.key, m.value]))
  ok(metrics.acc === 0.95 && metrics.loss === 0.2, 'latest metrics')
  ok(got.data.params.length === 2, 'params')
  ok(got.data.tags.some(t => t.key === 'stage' && t.value === 'dev'), 'tags')

  // the npm client sends no max_results: all points come back
  const hist = await Metrics.getHistory({ run_id, metric_key: 'loss' })
  ok(hist.metrics.length === 5 && hist.metrics[4].step === 4, 'metric history without max_results')

  const found = await Runs.search({ experiment_ids: [experiment_id], filter: "metrics.acc > 0.9 AND params.model = 'mlp' AND tags.team = 'js'", order_by: ['metrics.acc DESC'] })
  ok(found.runs.length === 1 && found.runs[0].info.run_id === run_id, 'search with filter')
  const none = await Runs.search({ experiment_ids: [experiment_id], filter: 'metrics.acc > 0.99' })
  ok(!none.runs, 'empty search is {}')
  await expectError(Runs.search({ experiment_ids: [experiment_id], filter: 'metrics.acc >> 1' }), 400, 'INVALID_PARAMETER_VALUE')

  await Runs.deleteTag({ run_id, key: 'stage' })
  const upd = await Runs.update({ run_id, status: 'FINISHED', end_time: Date.now() })
  ok(upd.run_info.status === 'FINISHED', 'update run')

  // artifacts: upload through the proxy, list with the client's old API
  const base = `${endpoint}/api/2.0/mlflow-artifacts/artifacts/${experiment_id}/${run_id}/artifacts`
  let r = await fetch(`${base}/notes/hello.txt`, { method: 'PUT', headers, body: 'hello from node' })
  ok(r.status === 200, 'upload artifact')
  r = await fetch(`${base}/../../../escape.txt`.replace('/../../../', '/%2E%2E/%2E%2E/%2E%2E/'), { method: 'PUT', headers, body: 'x', redirect: 'manual' })
  ok(r.status !== 200, 'traversal rejected')
  const listed = await Artifacts.list({ run_id, path: 'notes' })
  ok(listed.root_uri === run.info.artifact_uri, 'root_uri')
  ok(listed.files.length === 1 && listed.files[0].path === 'notes/hello.txt' && listed.files[0].file_size === 15, 'list artifacts')
  r = await fetch(`${base}/notes/hello.txt`, { headers })
  ok((await r.text()) === 'hello from node', 'download artifact')

  await Runs.delete({ run_id })
  ok((await Runs.get({ run_id })).run.info.lifecycle_stage === 'deleted', 'delete run')
  await expectError(Runs.logMetric({ run_id, key: 'x', value: 1, timestamp: 1, step: 0 }), 400, 'INVALID_PARAMETER_VALUE')
  await Runs.restore({ run_id })
  await Experiments.delete({ experiment_id })
  await Experiments.restore({ experiment_id })
  await expectError(Runs.get({ run_id: '0'.repeat(32) }), 404, 'RESOURCE_DOES_NOT_EXIST')

  log(`OK ${checks} checks`)
  log('not reachable with this client: Experiments.setTag (it requests ".../experimentsset-experiment-tag", a client bug)')
})().catch(e => {
  log('FAIL', e && e.stack || e)
  process.exit(1)
})

// axios with axios-auth-refresh, configured as its README says, on the same burst as
// refreshkit's benchmark: N concurrent requests holding an expired token, the refresh
// endpoint delayed 50 ms. Two configurations: the default, and `deduplicateRefresh:
// false` (the README's other documented mode). Usage: node bench.mjs BASE_URL. Prints
// Markdown rows.
import axios from 'axios';
import { createAuthRefresh } from 'axios-auth-refresh';

const base = process.argv[2];
const control = axios.create({ baseURL: base });
const repeats = 5;

const stats = async () => (await control.get('/control/stats')).data;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function burst(n, expired, options) {
  const login = (await control.post('/login', {})).data;
  let token = login.access_token;
  let refreshToken = login.refresh_token;
  const api = axios.create({ baseURL: base });
  api.interceptors.request.use((request) => {
    request.headers['Authorization'] = `Bearer ${token}`;
    return request;
  });
  const refreshAuthLogic = (failedRequest) =>
    api
      .post('/oauth/token', new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }), {
        skipAuthRefresh: true,
      })
      .then((answer) => {
        token = answer.data.access_token;
        refreshToken = answer.data.refresh_token ?? refreshToken;
        failedRequest.response.config.headers['Authorization'] = 'Bearer ' + token;
        return Promise.resolve();
      });
  createAuthRefresh(api, refreshAuthLogic, options);
  if (expired) await control.post('/control/expire-all', {});
  await control.post('/control/fault', { kind: 'delay', ms: 50 });
  const before = await stats();
  const started = performance.now();
  const results = await Promise.allSettled(Array.from({ length: n }, () => api.get('/api/resource')));
  const elapsed = performance.now() - started;
  const after = await stats();
  await control.post('/control/reset', {});
  return {
    elapsed,
    failures: results.filter((r) => r.status === 'rejected').length,
    refreshes: after.refreshes - before.refreshes,
    refreshCalls: after.refresh_requests - before.refresh_requests,
  };
}

const configurations = [
  ['axios + axios-auth-refresh', {}],
  ['axios + axios-auth-refresh, `deduplicateRefresh: false`', { deduplicateRefresh: false }],
];

for (const n of [100, 1000]) for (const [name, options] of configurations) {
  const ratios = [];
  const refreshes = [];
  const calls = [];
  let failures = 0;
  for (let i = 0; i < repeats; i++) {
    const valid = await burst(n, false, options);
    const run = await burst(n, true, options);
    ratios.push(run.elapsed / valid.elapsed);
    refreshes.push(run.refreshes);
    calls.push(run.refreshCalls);
    failures += run.failures;
  }
  console.log(
    `| ${name} (Node.js ${process.versions.node}) | ${n} | ${median(refreshes)} (max ${Math.max(...refreshes)}) | ${median(calls)} (max ${Math.max(...calls)}) | ${failures} | ${median(ratios).toFixed(2)} |`,
  );
}

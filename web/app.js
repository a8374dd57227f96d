// runcell's minimal page: GET /v1/languages fills the select; Run POSTs
// /v1/submissions?wait=true and, on 202, polls GET /v1/submissions/{id}.
// Program output is shown with textContent only, never parsed as HTML.
'use strict';
const $ = (id) => document.getElementById(id);

function headers(json) {
  const h = json ? { 'Content-Type': 'application/json' } : {};
  if ($('apikey').value) h['Authorization'] = 'Bearer ' + $('apikey').value;
  return h;
}

// fetch + JSON; throws an Error naming the status, message and field.
async function api(method, path, body) {
  const r = await fetch(path, { method, headers: headers(body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body) });
  let data = null;
  try { data = await r.json(); } catch (e) { /* not JSON */ }
  if (!r.ok) {
    let msg = 'HTTP ' + r.status + ': ' + (data && data.error ? data.error : r.statusText);
    if (data && data.field) msg += ' (field: ' + data.field + ')';
    throw new Error(msg);
  }
  return { status: r.status, data };
}

function showError(msg) {
  $('error').textContent = msg || '';
  $('error').hidden = !msg;
}

async function loadLanguages() {
  const sel = $('language');
  try {
    const { data } = await api('GET', '/v1/languages');
    const langs = (data.languages || []).filter((l) => l.available);
    sel.replaceChildren();
    for (const l of langs) {
      sel.append(new Option(l.name + (l.version ? ' — ' + l.version : ''), l.id));
    }
    if (langs.some((l) => l.id === 'python3')) sel.value = 'python3';
    if (!langs.length) showError('No language is available on this server.');
  } catch (e) {
    sel.replaceChildren(new Option('(unavailable)', ''));
    showError('Could not load the languages: ' + e.message);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function show(sub) {
  const res = sub.result || {};
  const t = (res.tests && res.tests[0]) || {};
  const verdict = sub.verdict || res.verdict || sub.status;
  $('verdict').textContent = verdict;
  $('verdict').className = verdict === 'accepted' ? 'ok' : 'bad';
  $('stats').textContent = t.cpu_ms === undefined ? '' :
    `cpu ${t.cpu_ms} ms · wall ${t.wall_ms} ms · memory ${t.memory_kb} KiB` +
    (t.exit_code !== null && t.exit_code !== undefined ? ` · exit code ${t.exit_code}` : '') +
    (t.signal ? ` · signal ${t.signal}` : '');
  const m = res.message || '';
  $('message').textContent = t.message && !m.includes(t.message) ? [m, t.message].filter(Boolean).join(' — ') : m;
  const c = res.compile;
  const compileOut = c ? [c.stdout, c.stderr].filter(Boolean).join('\n') : '';
  $('compile').textContent = compileOut;
  $('compile-box').hidden = !compileOut;
  // Output that is not UTF-8 comes as *_base64 (the exact bytes): shown
  // decoded as far as it can be, and said so.
  const text = (s, b64) => b64 === undefined ? (s || '') :
    new TextDecoder().decode(Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0))) +
    '\n[not UTF-8: the exact bytes are in the result\'s base64 field]';
  $('stdout').textContent = text(t.stdout, t.stdout_base64) + (t.stdout_truncated ? '\n[truncated]' : '');
  $('stderr').textContent = text(t.stderr, t.stderr_base64) + (t.stderr_truncated ? '\n[truncated]' : '');
  $('result').hidden = false;
}

async function run(ev) {
  ev.preventDefault();
  if ($('run').disabled) return;  // one run at a time (Ctrl+Enter too)
  showError('');
  $('result').hidden = true;
  $('run').disabled = true;
  $('status').textContent = 'running…';
  try {
    const body = { language: $('language').value, source: $('source').value,
                   stdin: $('stdin').value };
    let { status, data } = await api('POST', '/v1/submissions?wait=true', body);
    // 202 (or 201): not done yet; poll until it is, for up to 5 minutes.
    for (let i = 0; data.status !== 'done'; i++) {
      if (i >= 600) throw new Error('still ' + data.status + ' after 5 minutes (id ' + data.id + ')');
      $('status').textContent = data.status + '… (id ' + data.id + ', HTTP ' + status + ')';
      await sleep(500);
      ({ status, data } = await api('GET', '/v1/submissions/' + encodeURIComponent(data.id)));
    }
    show(data);
    $('status').textContent = 'done';
  } catch (e) {
    showError(e.message);
    $('status').textContent = '';
  } finally {
    $('run').disabled = false;
  }
}

$('run-form').addEventListener('submit', run);
$('run-form').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && !$('run').disabled) $('run-form').requestSubmit();
});
// With api_keys set, the first load gets 401: the list is loaded again
// once a key is typed.
$('apikey').addEventListener('change', loadLanguages);
loadLanguages();

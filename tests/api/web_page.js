// Drives web/app.js against a running server, with just enough of a DOM
// for it: node tests/api/web_page.js URL KEY.  Prints one line per check,
// "ok ..." or "FAIL ...", and exits 1 if any failed.
'use strict';
const fs = require('fs');
const path = require('path');
const [base, key] = process.argv.slice(2);

const els = {};
function el(id) {
  if (!els[id]) {
    els[id] = { id, value: '', textContent: '', hidden: false, disabled: false, className: '',
      options: [], handlers: {},
      addEventListener(type, fn) { (this.handlers[type] = this.handlers[type] || []).push(fn); },
      replaceChildren(...kids) { this.options = kids; this.value = kids.length ? kids[0].value : ''; },
      append(o) { this.options.push(o); if (this.options.length === 1) this.value = o.value; },
      requestSubmit() { for (const fn of els['run-form'].handlers.submit || []) fn({ preventDefault() {} }); },
    };
  }
  return els[id];
}
let posts = 0;
global.document = { getElementById: el };
global.Option = function (text, value) { this.text = text; this.value = value; };
const realFetch = global.fetch;
global.fetch = (p, opts) => {
  if (opts && opts.method === 'POST') posts++;
  return realFetch(base + p, opts);
};

let failed = 0;
const check = (ok, what) => { console.log((ok ? 'ok ' : 'FAIL ') + what); if (!ok) failed++; };
const settle = async (cond, ms) => {
  for (let t = 0; t < ms && !cond(); t += 50) await new Promise((r) => setTimeout(r, 50));
};

(async () => {
  require(path.join(__dirname, '..', '..', 'web', 'app.js'));
  await settle(() => el('error').textContent || el('language').options.length > 1, 5000);
  check(/401/.test(el('error').textContent), 'without a key the language list fails with 401');
  // The key typed afterwards loads the list (it never did).
  el('apikey').value = key;
  for (const fn of el('apikey').handlers.change || []) fn();
  await settle(() => el('language').options.length > 1, 5000);
  check(el('language').value === 'python3', 'after the key is typed the list has python3');
  // Two submits at once (Ctrl+Enter during a run): one POST.
  el('source').value = "import sys\nsys.stdout.buffer.write(b'ok \\xff end\\n')";
  const submit = el('run-form').handlers.submit[0];
  submit({ preventDefault() {} });
  submit({ preventDefault() {} });
  await settle(() => el('status').textContent === 'done' || el('error').textContent, 20000);
  check(posts === 1, 'a second submit during a run sends nothing (' + posts + ' POSTs)');
  check(el('verdict').textContent === 'accepted', 'verdict shown: ' + el('verdict').textContent);
  check(el('stdout').textContent.includes('not UTF-8'), 'output that is not UTF-8 is said to be so');
  process.exit(failed ? 1 : 0);
})().catch((e) => { console.log('FAIL ' + e.stack); process.exit(1); });

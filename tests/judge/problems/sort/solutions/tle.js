// time limit: permutation sort, n! steps on the 14 numbers of test 05
const data = require('fs').readFileSync(0, 'utf8').split(/\s+/).filter(Boolean);
const n = Number(data[0]);
const a = data.slice(1, 1 + n).map(Number);
const p = [...Array(n).keys()];
function nextPerm() {
  let i = n - 2;
  while (i >= 0 && p[i] >= p[i + 1]) i--;
  if (i < 0) return false;
  let j = n - 1;
  while (p[j] <= p[i]) j--;
  [p[i], p[j]] = [p[j], p[i]];
  for (let l = i + 1, r = n - 1; l < r; l++, r--) [p[l], p[r]] = [p[r], p[l]];
  return true;
}
do {
  let ok = true;
  for (let i = 0; i + 1 < n; i++) if (a[p[i]] > a[p[i + 1]]) { ok = false; break; }
  if (ok) break;
} while (nextPerm());
console.log(p.map(i => a[i]).join(' '));

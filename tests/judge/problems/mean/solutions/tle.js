// time limit: loops forever when n > 4
const data = require('fs').readFileSync(0, 'utf8').split(/\s+/).filter(Boolean);
const n = Number(data[0]);
while (n > 4) {}
let s = 0;
for (let i = 1; i <= n; i++) s += Number(data[i]);
console.log((s / n).toFixed(9));

const data = require('fs').readFileSync(0, 'utf8').split(/\s+/).filter(Boolean);
const n = Number(data[0]);
const a = data.slice(1, 1 + n).map(Number);
a.sort((x, y) => x - y);
console.log(a.join(' '));

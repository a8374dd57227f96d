// runtime error: exit status 3 when n > 4
const data = require('fs').readFileSync(0, 'utf8').split(/\s+/).filter(Boolean);
const n = Number(data[0]);
if (n > 4) process.exit(3);
const a = data.slice(1, 1 + n).map(Number);
a.sort((x, y) => x - y);
console.log(a.join(' '));

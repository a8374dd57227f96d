const b = Buffer.alloc(256 * 1024 * 1024, 1); console.log(b[b.length - 1]);

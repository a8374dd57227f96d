"""Examples in the docs, run as shown: the '$ COMMAND' lines of a markdown
file's fenced blocks and the answers printed under them.  tests/api runs
the curl examples of docs/API.md and README.md, tests/sandbox the
`build/runcell run` examples of README.md.  Not a suite itself.

An answer shown is matched loosely where runs differ and exactly where
they must not: a status line's code, the Content-Type header, every JSON
key shown, the values of the keys named in `exact` (in the order shown;
"..." in a value skips it), metric names, and any other text line as it
stands, save numbers followed by " ms" or " KB" (measurements)."""
import re


def examples(path):
    """For each fenced block that holds '$ ' lines: (heading, [(command,
    expected lines)]).  A command continues on the next line after a
    trailing backslash; its answer is every line up to the next '$' line
    or the fence."""
    blocks, heading, block, in_fence = [], "", None, False
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if line.startswith("```"):
            if in_fence and block:
                blocks.append((heading, block))
            in_fence, block = not in_fence, []
            continue
        if not in_fence:
            if line.startswith("#"):
                heading = line.lstrip("#").strip()
            continue
        if line.startswith("$ "):
            cmd = line[2:]
            while cmd.endswith("\\") and i < len(lines):
                cmd = cmd[:-1] + " " + lines[i].strip()
                i += 1
            block.append((cmd, []))
        elif block:
            block[-1][1].append(line)
    return blocks


def _clip(s, n):
    s = str(s)
    return s if len(s) <= n else s[:n] + "..."


_MEASURED = re.compile(r"\d+( ms| KB)")


def mismatch(expected, out, exact):
    """Why the answer out does not match the expected lines, or None."""
    exp = "\n".join(expected).strip()
    if not exp:
        return None
    if not out.strip():
        return "no answer (expected %s)" % _clip(exp, 120)
    first = exp.split("\n")[0]
    http = first.startswith("HTTP/")
    if http:
        code = first.split()[1]
        got = out.split("\n")[0].split()
        if len(got) < 2 or got[1] != code:
            return "status line %r, expected %r" % (out.split("\n")[0].strip(), first)
        for h in re.findall(r"(?m)^Content-Type: (.*)$", exp):
            if not re.search(r"(?mi)^Content-Type: %s\r?$" % re.escape(h.strip()), out):
                return "no header Content-Type: %s" % h.strip()
    keys = set(re.findall(r'"([A-Za-z_][A-Za-z0-9_]*)"\s*:', exp))
    for k in sorted(keys):
        if not re.search(r'"%s"\s*:' % re.escape(k), out):
            return "no key %r in %s" % (k, _clip(out, 200))
    # The values shown must come in the answer in the same order (the
    # answer may hold more, where the example says "...").
    pair = r'"(%s)"\s*:\s*"((?:[^"\\]|\\.)*)"'
    for key in exact:
        shown = [v for k, v in re.findall(pair % key, exp) if "..." not in v]
        given = iter(v for k, v in re.findall(pair % key, out))
        for v in shown:
            if not any(g == v for g in given):
                return "%s %r is not in the answer (in that order): %s" % (key, v, _clip(out, 300))
    metrics = re.findall(r"(?m)^(runcell_[a-z_]+)", exp)
    for name in metrics:
        if not re.search(r"(?m)^%s[ {]" % name, out):
            return "no metric %s in %s" % (name, _clip(out, 200))
    if not keys and not http and not metrics:
        want = [_MEASURED.sub(r"N\1", l.rstrip()) for l in exp.split("\n")]
        got = [_MEASURED.sub(r"N\1", l.rstrip()) for l in out.strip().split("\n")]
        if want != got:
            return "answer %r, expected %r" % (_clip(out.strip(), 200), exp)
    return None

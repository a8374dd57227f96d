# the right sum, but only when no earlier test left a file behind in /box or /tmp
import os
import sys
data = sys.stdin.read().split()
n = int(data[0])
left = [p for p in ("/tmp/judge-marker", "judge-marker") if os.path.exists(p)]
for p in ("/tmp/judge-marker", "judge-marker"):
    try:
        open(p, "w").write("x")
    except OSError:
        pass
print("leftover %s" % left if left else sum(int(x) for x in data[1:1 + n]))

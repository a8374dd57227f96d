# runtime error: exit status 3 when n > 4
import sys
data = sys.stdin.read().split()
n = int(data[0])
if n > 4:
    sys.exit(3)
print("%.9f" % (sum(float(x) for x in data[1:1 + n]) / n))

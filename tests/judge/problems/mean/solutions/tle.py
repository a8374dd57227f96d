# time limit: loops forever when n > 4
import sys
data = sys.stdin.read().split()
n = int(data[0])
while n > 4:
    pass
print("%.9f" % (sum(float(x) for x in data[1:1 + n]) / n))

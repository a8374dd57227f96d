# wrong answer: rounds to 2 decimals, outside the float checker's tolerance
import sys
data = sys.stdin.read().split()
n = int(data[0])
print("%.2f" % (sum(float(x) for x in data[1:1 + n]) / n))

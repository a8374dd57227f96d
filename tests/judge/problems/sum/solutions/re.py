# runtime error: an uncaught exception when n > 4
import sys
data = sys.stdin.read().split()
n = int(data[0])
if n > 4:
    raise ValueError("too many numbers")
print(sum(int(x) for x in data[1:1 + n]))

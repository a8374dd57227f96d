# runtime error: division by zero when n > 4
import sys
data = sys.stdin.read().split()
n = int(data[0])
if n > 4:
    print(1 // 0)
print(" ".join(map(str, sorted(int(x) for x in data[1:1 + n]))))

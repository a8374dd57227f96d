# wrong answer: sorts the numbers as strings
import sys
data = sys.stdin.read().split()
n = int(data[0])
print(" ".join(sorted(data[1:1 + n])))

# time limit: permutation sort, n! steps on the 14 numbers of test 05
import itertools
import sys
data = sys.stdin.read().split()
n = int(data[0])
a = [int(x) for x in data[1:1 + n]]
for p in itertools.permutations(range(n)):
    if all(a[p[i]] <= a[p[i + 1]] for i in range(n - 1)):
        break
print(" ".join(str(a[i]) for i in p))

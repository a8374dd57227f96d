# the right sum, with trailing spaces and trailing empty lines
import sys
data = sys.stdin.read().split()
n = int(data[0])
sys.stdout.write("%d   \n\n\n" % sum(int(x) for x in data[1:1 + n]))

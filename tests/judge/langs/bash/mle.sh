# Doubles a string until the memory limit ends the run: a few large
# copies (0.6-0.7 s of CPU here).  A pipe of 256 MB through tr into the
# string took 1.1-1.4 s of the 2 s CPU limit, and on a loaded machine
# used it all before it reached the memory limit.
x=a
while :; do x=$x$x; done

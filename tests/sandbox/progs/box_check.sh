#!/bin/sh
# box_check.sh: run with --box=DIR holding hello.txt, sub/ok and symlinks
# to host files (evil -> /etc/shadow, canary, rootdir -> /root): the regular
# files must arrive, the links must not bring any host content.
cat /box/hello.txt /box/sub/ok
bad=0
for f in /box/evil /box/canary /box/rootdir/.bashrc /box/rootdir/.profile; do
	if [ -r "$f" ] && [ -s "$f" ]; then echo "BAD $f readable"; bad=1; else echo "good $f"; fi
done
if [ -n "$(ls -A /box/rootdir/ 2>/dev/null)" ]; then echo "BAD /box/rootdir lists host /root"; bad=1; fi
if [ $bad = 0 ]; then echo clean; else echo bad; fi

#!/bin/bash
# bg_sleep.sh: leaves nohup'd, disowned background sleeps and exits 0.
nohup sleep 1000 >/dev/null 2>&1 &
disown
setsid sleep 1000 </dev/null >/dev/null 2>&1 &
echo started
exit 0

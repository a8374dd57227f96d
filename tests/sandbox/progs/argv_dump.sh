#!/bin/sh
# argv_dump.sh: the same through a shell script ("$@" keeps them literal).
printf '%s\n' "$#"
for a in "$@"; do printf '[%s]\n' "$a"; done

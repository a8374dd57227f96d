#!/bin/sh
# env_dump.sh: `env` from a shell.
env | sort | sed 's/^/env /'

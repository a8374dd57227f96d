#!/bin/bash
# flood.sh: shell output flood on both streams through yes(1).
yes stderr-flood >&2 &
yes stdout-flood

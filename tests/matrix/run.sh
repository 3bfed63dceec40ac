#!/bin/sh
# The kernel matrix (see matrix.py): host kernel plus Debian 5.10, 6.1, 6.12 and 7.2 guests.
exec python3 "$(dirname "$0")/matrix.py" "$@"

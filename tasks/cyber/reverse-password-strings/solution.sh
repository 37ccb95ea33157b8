#!/bin/bash
# The password is stored in the binary as a plain string: try every printable string as input.
strings -n 6 ./gatekeeper | while IFS= read -r s; do
  out=$(printf '%s\n' "$s" | ./gatekeeper 2>/dev/null)
  if printf '%s' "$out" | grep -q 'flag{'; then echo "password: $s"; printf '%s\n' "$out" | grep -o 'flag{[^}]*}'; break; fi
done

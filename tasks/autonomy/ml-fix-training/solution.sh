#!/bin/bash
# Reference solution: the labels are lowercase yes/no (all were read as 0), and the update
# climbs the loss gradient instead of descending it.
set -e
sed -i -e 's/r\[LABEL\] == "Yes"/r[LABEL].strip().lower() == "yes"/' \
       -e 's/w\[j\] += lr \* gw\[j\] \/ n/w[j] -= lr * gw[j] \/ n/' \
       -e 's/b += lr \* gb \/ n/b -= lr * gb \/ n/' train.py
python3 train.py | tail -1

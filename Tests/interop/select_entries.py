"""Select the trusted entries of a key with the real Python client.

usage: select_entries.py SLAPOS_CFG KEY

Prints each entry `NetworkcacheClient.select(KEY)` yields as one line of
`json.dumps(entry)` (member order kept), in the order selected.
"""
import json
import sys

from slapos.libnetworkcache import NetworkcacheClient

config, key = sys.argv[1:3]
with open(config) as f:
    client = NetworkcacheClient(f)
for entry in client.select(key):
    print(json.dumps(entry))
